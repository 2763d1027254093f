{#- True when the string expression matches the regular expression anywhere (no
    implicit anchoring): a pattern that must match the whole value carries its own
    ^…$ anchors. Null in → null out. -#}
{% macro lw_regexp_like(expr, pattern) -%}
    {{ return(adapter.dispatch('lw_regexp_like', 'lifecycle_warehouse')(expr, pattern)) }}
{%- endmacro %}

{% macro default__lw_regexp_like(expr, pattern) -%}
    ({{ expr }} rlike {{ lw_regex_literal(pattern) }})
{%- endmacro %}

{% macro duckdb__lw_regexp_like(expr, pattern) -%}
    regexp_matches({{ expr }}, {{ lw_regex_literal(pattern) }})
{%- endmacro %}
