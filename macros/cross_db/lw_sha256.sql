{#- Hex sha256 of a string expression (PII hashing for joins). -#}
{% macro lw_sha256(expr) -%}
    {{ return(adapter.dispatch('lw_sha256', 'lifecycle_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__lw_sha256(expr) -%}
    sha2({{ expr }}, 256)
{%- endmacro %}

{% macro duckdb__lw_sha256(expr) -%}
    sha256({{ expr }})
{%- endmacro %}
