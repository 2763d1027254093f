-- The person map must be the connected components of the accepted links (those the
-- component guard did not refuse):
--   1. no accepted link crosses two persons (both ends have the same person_id,
--      and both ends have a person at all);
--   2. in a person with several identifiers every identifier has at least one
--      accepted link to another identifier of that person (nothing was merged
--      in without evidence).
-- Returns one row per violation with what is wrong.
with

excluded_links as (
    select * from {{ ref('int_identity__excluded_links') }}
),

-- Accepted by the over-merge guard and not refused by the component guard (an
-- oversized component's accepted links are listed in int_identity__excluded_links).
links as (
    select all_links.*
    from {{ ref('int_identity__links') }} as all_links
    left join excluded_links
        on
            all_links.identifier_a = excluded_links.identifier_a
            and all_links.identifier_b = excluded_links.identifier_b
    where all_links.is_accepted and excluded_links.identifier_a is null
),

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

crossing_links as (
    select
        'accepted link crosses persons' as failure,
        links.identifier_a as identifier,
        links.identifier_b as other_identifier,
        map_a.person_id,
        map_b.person_id as other_person_id
    from links
    left join person_map as map_a
        on links.identifier_a = map_a.identifier
    left join person_map as map_b
        on links.identifier_b = map_b.identifier
    where
        map_a.person_id is null
        or map_b.person_id is null
        or map_a.person_id <> map_b.person_id
),

identifiers_per_person as (
    select
        person_id,
        count(*) as identifiers
    from person_map
    group by person_id
),

linked_ends as (
    select identifier_a as identifier from links
    union all
    select identifier_b as identifier from links
),

unlinked_members as (
    select
        'merged without an accepted link' as failure,
        person_map.identifier,
        cast(null as {{ dbt.type_string() }}) as other_identifier,
        person_map.person_id,
        cast(null as {{ dbt.type_string() }}) as other_person_id
    from person_map
    inner join identifiers_per_person
        on person_map.person_id = identifiers_per_person.person_id
    where
        identifiers_per_person.identifiers > 1
        and person_map.identifier not in (select linked_ends.identifier from linked_ends)
)

select * from crossing_links
union all
select * from unlinked_members
