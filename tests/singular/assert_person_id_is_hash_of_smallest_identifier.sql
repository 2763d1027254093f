-- person_id must be deterministic: the hash of the smallest identifier of the
-- person (its component_root). Fails for persons whose identifiers disagree on the
-- root, whose root is not their smallest identifier, or whose person_id is not the
-- hash of the root — any of which would make ids depend on row order or runs.
with

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

per_person as (
    select
        person_id,
        min(identifier) as smallest_identifier,
        min(component_root) as component_root,
        count(distinct component_root) as component_roots
    from person_map
    group by person_id
)

select *
from per_person
where
    component_roots <> 1
    or component_root <> smallest_identifier
    or person_id <> {{ dbt.hash('smallest_identifier') }}
