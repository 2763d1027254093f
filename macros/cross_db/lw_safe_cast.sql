{#- Cast that yields null instead of failing (both engines), so validation
    never depends on a cast error. -#}
{% macro lw_safe_cast(expr, data_type) -%}
    {{ return(adapter.dispatch('lw_safe_cast', 'lifecycle_warehouse')(expr, data_type)) }}
{%- endmacro %}

{% macro default__lw_safe_cast(expr, data_type) -%}
    {{ dbt.safe_cast(expr, data_type) }}
{%- endmacro %}

{#- dbt-duckdb has no safe_cast of its own: dbt's default is a plain cast, which
    fails the whole model on one bad value ('two' as integer) instead of giving
    null for the row to be quarantined. -#}
{% macro duckdb__lw_safe_cast(expr, data_type) -%}
    try_cast({{ expr }} as {{ data_type }})
{%- endmacro %}
