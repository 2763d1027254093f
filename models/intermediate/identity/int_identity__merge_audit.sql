-- One row per person: how the person was assembled — identifiers and accepted
-- links per type, links refused by the over-merge or the component guard, and the root
-- identifier that names the person. Answers "why are these two ids one person?"
-- One count column per demo identifier type; every other configured type (a declared
-- source's customer ids) is counted in other_identifiers.
{%- set demo_types = ['user', 'cookie', 'device', 'email', 'phone', 'loyalty_card'] %}
with

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

links as (
    select * from {{ ref('int_identity__links') }}
),

identifiers_per_person as (
    select
        person_id,
        min(component_root) as component_root,
        count(*) as identifiers,
        {% for identifier_type in demo_types -%}
        count(case when identifier_type = '{{ identifier_type }}' then 1 end) as {{ identifier_type }}_identifiers,
        {% endfor -%}
        count(case when identifier_type not in (
            {%- for identifier_type in demo_types %}
            '{{ identifier_type }}'{{ ',' if not loop.last }}
            {%- endfor %}
        ) then 1 end) as other_identifiers,
        count(case when is_excluded_identifier then 1 end) as excluded_identifiers,
        max(case when is_in_oversized_component then 1 else 0 end) = 1 as is_in_oversized_component
    from person_map
    group by person_id
),

links_per_person as (
    select
        person_map.person_id,
        -- A link the component guard refused (person_map.is_in_oversized_component)
        -- merged nothing: it counts as excluded, like one the over-merge guard refused.
        count(case when links.is_accepted and not person_map.is_in_oversized_component then 1 end)
            as accepted_links,
        count(case when not links.is_accepted or person_map.is_in_oversized_component then 1 end)
            as excluded_links
    from links
    inner join person_map
        on links.identifier_a = person_map.identifier
    group by person_map.person_id
),

final as (
    select
        identifiers_per_person.person_id,
        identifiers_per_person.component_root,
        identifiers_per_person.identifiers,
        {% for identifier_type in demo_types -%}
        identifiers_per_person.{{ identifier_type }}_identifiers,
        {% endfor -%}
        identifiers_per_person.other_identifiers,
        identifiers_per_person.excluded_identifiers,
        coalesce(links_per_person.accepted_links, 0) as accepted_links,
        coalesce(links_per_person.excluded_links, 0) as excluded_links,
        identifiers_per_person.identifiers > 1 as is_merged,
        identifiers_per_person.is_in_oversized_component
    from identifiers_per_person
    left join links_per_person
        on identifiers_per_person.person_id = links_per_person.person_id
)

select * from final
