{#- A regular expression as an SQL string literal that reaches the regex engine exactly
    as written. DuckDB keeps backslashes in literals; Spark processes backslash escapes
    ('\+' would arrive as '+'), so there they are doubled. Used by every regex macro. -#}
{% macro lw_regex_literal(pattern) -%}
    {{ return(adapter.dispatch('lw_regex_literal', 'lifecycle_warehouse')(pattern)) }}
{%- endmacro %}

{% macro default__lw_regex_literal(pattern) -%}
    '{{ pattern }}'
{%- endmacro %}

{% macro spark__lw_regex_literal(pattern) -%}
    '{{ pattern | replace('\\', '\\\\') }}'
{%- endmacro %}
