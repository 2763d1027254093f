-- An identifier excluded by the over-merge guard (shared, or listed in
-- seeds/identity_exclusions.csv) links to nobody: its person has exactly one
-- identifier. Fails for every excluded identifier that shares its person.
with

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

identifiers_per_person as (
    select
        person_id,
        count(*) as identifiers
    from person_map
    group by person_id
)

select
    person_map.identifier,
    person_map.person_id,
    identifiers_per_person.identifiers
from person_map
inner join identifiers_per_person
    on person_map.person_id = identifiers_per_person.person_id
where
    person_map.is_excluded_identifier
    and identifiers_per_person.identifiers > 1
