{#- Epoch milliseconds (bigint, UTC) → timestamp without time zone in UTC. -#}
{% macro lw_epoch_ms_to_timestamp(expr) -%}
    {{ return(adapter.dispatch('lw_epoch_ms_to_timestamp', 'lifecycle_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__lw_epoch_ms_to_timestamp(expr) -%}
    timestamp_millis({{ expr }})
{%- endmacro %}

{% macro duckdb__lw_epoch_ms_to_timestamp(expr) -%}
    epoch_ms(try_cast({{ expr }} as bigint))
{%- endmacro %}
