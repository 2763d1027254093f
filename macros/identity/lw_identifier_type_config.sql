{#- The configuration of one identifier type (var identifier_types): normalise,
    pattern, hashed, links_persons, max_neighbours_per_type. Fails naming the type and
    the configured ones when it is not configured. -#}
{% macro lw_identifier_type_config(identifier_type) -%}
    {%- set types = var('identifier_types') -%}
    {%- if identifier_type not in types -%}
        {{ exceptions.raise_compiler_error(
            "identifier type '" ~ identifier_type ~ "' is not configured; configured: "
            ~ (types.keys() | list | sort | join(', '))
            ~ ". Fix: add it under identifier_types in your sources file (docs/sources.md)."
        ) }}
    {%- endif -%}
    {{ return(types[identifier_type]) }}
{%- endmacro %}
