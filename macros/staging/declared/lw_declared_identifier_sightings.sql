{#- Sightings (source, identifier, seen_at) of every typed identifier identifier_1 …
    identifier_5 of a declared adapter's staged relation (a CTE name), at `seen_at_column`. -#}
{% macro lw_declared_identifier_sightings(relation, seen_at_column) -%}
    {%- for position in range(1, 6) %}
    select
        source,
        identifier_{{ position }} as identifier,
        {{ seen_at_column }} as seen_at
    from {{ relation }}
    where identifier_{{ position }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- Links (source, left_identifier, right_identifier, seen_at) of a declared adapter's
    staged relation: the row's person-resolving identifier (the first of identifier_1 …
    identifier_5 present) with each other one present. -#}
{% macro lw_declared_identifier_links(relation, seen_at_column) -%}
    select
        resolved.source,
        resolved.resolving_identifier as left_identifier,
        resolved.other_identifier as right_identifier,
        resolved.seen_at
    from (
        {%- for position in range(2, 6) %}
        select
            source,
            coalesce(identifier_1, identifier_2, identifier_3, identifier_4, identifier_5) as resolving_identifier,
            identifier_{{ position }} as other_identifier,
            {{ seen_at_column }} as seen_at
        from {{ relation }}
        where identifier_{{ position }} is not null
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as resolved
    where resolved.resolving_identifier <> resolved.other_identifier
{%- endmacro %}
