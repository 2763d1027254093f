{#- True when `expr` is a well-formed identifier of type `identifier_type` (its pattern
    in var identifier_types; a type without a pattern accepts any non-null value);
    false otherwise, including null. -#}
{% macro lw_is_valid_id(expr, identifier_type) -%}
    {%- set pattern = lw_id_pattern(identifier_type) -%}
    {%- if pattern is none -%}
        ({{ expr }} is not null)
    {%- else -%}
        coalesce({{ lw_regexp_like(expr, pattern) }}, false)
    {%- endif -%}
{%- endmacro %}
