-- One row per identifier link that did not merge two identifiers, with the reason:
-- what would have been merged without the guards. Two guards refuse links:
--   * the over-merge guard (int_identity__links): an end is shared (more than its
--     type's max_neighbours_per_type, var identifier_types) or listed in
--     seeds/identity_exclusions.csv;
--   * the component guard (int_identity__person_map): the link was accepted, but its
--     component holds more than var identity_max_identifiers_per_component
--     identifiers, so it is not merged into one person.
-- Review it when tuning those vars or seeds/identity_exclusions.csv.
with

links as (
    select * from {{ ref('int_identity__links') }}
),

components as (
    select * from {{ ref('int_identity__components') }}
),

refused_by_identifier as (
    select
        identifier_a,
        identifier_b,
        link_sources,
        first_seen_at,
        observations,
        exclusion_reason
    from links
    where not is_accepted
),

refused_by_component as (
    select
        links.identifier_a,
        links.identifier_b,
        links.link_sources,
        links.first_seen_at,
        links.observations,
        'oversized component: '
        || cast(components.component_identifiers as {{ dbt.type_string() }})
        || ' identifiers linked to ' || components.component_root
        || ' (max {{ var("identity_max_identifiers_per_component") }})' as exclusion_reason
    from links
    inner join components
        on links.identifier_a = components.identifier
    where
        links.is_accepted
        and components.is_in_oversized_component
),

final as (
    select * from refused_by_identifier
    union all
    select * from refused_by_component
)

select * from final
