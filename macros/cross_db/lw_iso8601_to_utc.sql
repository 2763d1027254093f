{#- An ISO-8601 string with a UTC offset or 'Z' → UTC timestamp (without
    time zone). Unparseable strings give null (callers quarantine them). -#}
{% macro lw_iso8601_to_utc(expr) -%}
    {{ return(adapter.dispatch('lw_iso8601_to_utc', 'lifecycle_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__lw_iso8601_to_utc(expr) -%}
    {#- Spark: the session time zone is UTC (profile), so the cast yields UTC. -#}
    cast(to_timestamp({{ expr }}) as timestamp)
{%- endmacro %}

{% macro duckdb__lw_iso8601_to_utc(expr) -%}
    cast(timezone('UTC', try_cast({{ expr }} as timestamptz)) as timestamp)
{%- endmacro %}
