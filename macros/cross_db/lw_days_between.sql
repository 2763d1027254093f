{#- Whole days from start_date to end_date as a bigint on every engine (dbt.datediff
    gives bigint on DuckDB but int on Spark, and the mart contracts say bigint). -#}
{% macro lw_days_between(start_date, end_date) -%}
    cast({{ dbt.datediff(start_date, end_date, 'day') }} as {{ dbt.type_bigint() }})
{%- endmacro %}
