{#- A case expression giving, for the identifier type in `type_expr`, its setting
    `setting` from var identifier_types (e.g. max_neighbours_per_type, links_persons);
    null for a type that is not configured. -#}
{% macro lw_identifier_type_setting(type_expr, setting) -%}
    {%- set types = var('identifier_types') -%}
    case {{ type_expr }}
        {%- for name in types.keys() | sort %}
        when '{{ name }}' then {{ 'true' if types[name][setting] is sameas true else ('false' if types[name][setting] is sameas false else types[name][setting]) }}
        {%- endfor %}
    end
{%- endmacro %}
