{#- True when the string expression matches the (anchored) regular expression.
    Patterns should carry their own ^…$ anchors. Null in → null out. -#}
{% macro lw_regexp_like(expr, pattern) -%}
    {{ return(adapter.dispatch('lw_regexp_like', 'lifecycle_warehouse')(expr, pattern)) }}
{%- endmacro %}

{% macro default__lw_regexp_like(expr, pattern) -%}
    ({{ expr }} rlike '{{ pattern }}')
{%- endmacro %}

{#- Spark processes backslash escapes in string literals ('\+' would reach the regex
    engine as '+'): double them so the pattern arrives as written. -#}
{% macro spark__lw_regexp_like(expr, pattern) -%}
    ({{ expr }} rlike '{{ pattern | replace('\\', '\\\\') }}')
{%- endmacro %}

{% macro duckdb__lw_regexp_like(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}
