{#- A typed identifier '<type>:<value>', the node name of the identity graph, from the
    staged (already normalised, or hashed) value `value_expr`; null when it is null. -#}
{% macro lw_typed_identifier(identifier_type, value_expr) -%}
    {%- do lw_identifier_type_config(identifier_type) -%}
    '{{ identifier_type }}:' || {{ value_expr }}
{%- endmacro %}
