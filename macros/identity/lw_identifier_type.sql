{#- The type part of a typed identifier '<type>:<value>' (e.g. 'cookie'). -#}
{% macro lw_identifier_type(identifier_expr) -%}
    {{ dbt.split_part(identifier_expr, "':'", 1) }}
{%- endmacro %}
