{#- A 'YYYYMMDD' string → date; null when it is not a valid date (never an error). -#}
{% macro lw_parse_yyyymmdd(expr) -%}
    {{ return(adapter.dispatch('lw_parse_yyyymmdd', 'lifecycle_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__lw_parse_yyyymmdd(expr) -%}
    to_date({{ expr }}, 'yyyyMMdd')
{%- endmacro %}

{% macro duckdb__lw_parse_yyyymmdd(expr) -%}
    cast(try_strptime({{ expr }}, '%Y%m%d') as date)
{%- endmacro %}
