{#- Removes every character that is not 0-9. -#}
{% macro lw_strip_non_digits(expr) -%}
    {{ return(adapter.dispatch('lw_strip_non_digits', 'lifecycle_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__lw_strip_non_digits(expr) -%}
    regexp_replace({{ expr }}, '[^0-9]', '')
{%- endmacro %}

{% macro duckdb__lw_strip_non_digits(expr) -%}
    regexp_replace({{ expr }}, '[^0-9]', '', 'g')
{%- endmacro %}
