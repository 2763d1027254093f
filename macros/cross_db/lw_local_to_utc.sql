{#- A wall-clock timestamp in the IANA time zone `tz_expr` → UTC timestamp
    (without time zone). Handles DST; tz_expr may be a column. -#}
{% macro lw_local_to_utc(ts_expr, tz_expr) -%}
    {{ return(adapter.dispatch('lw_local_to_utc', 'lifecycle_warehouse')(ts_expr, tz_expr)) }}
{%- endmacro %}

{% macro default__lw_local_to_utc(ts_expr, tz_expr) -%}
    to_utc_timestamp({{ ts_expr }}, {{ tz_expr }})
{%- endmacro %}

{% macro duckdb__lw_local_to_utc(ts_expr, tz_expr) -%}
    cast(timezone('UTC', timezone({{ tz_expr }}, cast({{ ts_expr }} as timestamp))) as timestamp)
{%- endmacro %}
