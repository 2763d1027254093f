{#- Replaces every match of the regular expression `pattern` in the string expression
    by `replacement`. -#}
{% macro lw_regexp_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('lw_regexp_replace_all', 'lifecycle_warehouse')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__lw_regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ lw_regex_literal(pattern) }}, '{{ replacement }}')
{%- endmacro %}

{#- DuckDB replaces only the first match unless given the 'g' option. -#}
{% macro duckdb__lw_regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ lw_regex_literal(pattern) }}, '{{ replacement }}', 'g')
{%- endmacro %}
