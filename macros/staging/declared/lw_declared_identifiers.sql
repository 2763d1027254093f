{#- The identifiers a declared source's row carries, as typed identifiers in the fixed
    columns identifier_1 … identifier_5 (in the declared order of precedence; null where
    absent or fewer are declared), and is_malformed_identifier: some identifier is
    present but not valid for its type. `refs`: the mapped identifier fields. At most
    five per source (lifecycle_warehouse.pipeline.sources checks it). calling_codes: see
    lw_normalize_identifier. -#}
{% macro lw_declared_identifiers(refs, relation_alias='raw', calling_codes=none) -%}
    {%- if refs | length > 5 -%}
        {{ exceptions.raise_compiler_error("a declared source maps " ~ (refs | length) ~ " identifiers; at most 5. Fix: keep the five that identify persons best") }}
    {%- endif -%}
    {%- for position in range(5) -%}
        {%- if position < refs | length %}
        {{ lw_mapped_identifier(refs[position], relation_alias, calling_codes) }} as identifier_{{ position + 1 }},
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as identifier_{{ position + 1 }},
        {%- endif -%}
    {%- endfor %}
        (
            {%- for ref in refs %}
            {{ lw_mapped_identifier_is_malformed(ref, relation_alias, calling_codes) }}{{ ' or' if not loop.last }}
            {%- endfor %}
        ) as is_malformed_identifier
{%- endmacro %}
