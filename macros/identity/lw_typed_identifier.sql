{#- A typed identifier '<type>:<value>', the node name of the identity graph, from the
    staged (already normalised, or hashed) value `value_expr`; null when it is null. -#}
{% macro lw_typed_identifier(identifier_type, value_expr) -%}
    {%- do lw_identifier_type_config(identifier_type) -%}
    '{{ identifier_type }}:' || {{ value_expr }}
{%- endmacro %}

{#- The typed identifier '<type>:<value>' when the type is data, not code: a list whose rows
    name their own type (seeds/identity_exclusions.csv). type_expr and value_expr are SQL
    expressions; the type is not checked against var identifier_types (an exclusion of a
    type no source delivers matches nothing). -#}
{% macro lw_typed_identifier_of_type_column(type_expr, value_expr) -%}
    {{ type_expr }} || ':' || {{ value_expr }}
{%- endmacro %}
