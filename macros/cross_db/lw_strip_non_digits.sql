{#- Removes every character that is not 0-9. -#}
{% macro lw_strip_non_digits(expr) -%}
    {{ lw_regexp_replace_all(expr, '[^0-9]', '') }}
{%- endmacro %}
