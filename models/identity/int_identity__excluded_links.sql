-- One row per identifier link the over-merge guard refused, with the reason:
-- what would have been merged without the guard. Review it when tuning
-- max_neighbours_per_type (var identifier_types) or seeds/identity_exclusions.csv.
with

links as (
    select * from {{ ref('int_identity__links') }}
),

final as (
    select
        identifier_a,
        identifier_b,
        link_sources,
        first_seen_at,
        observations,
        exclusion_reason
    from links
    where not is_accepted
)

select * from final
