-- One row per identifier per source: every identifier any source has seen, with
-- when it was first and last seen there. Identifiers are typed strings
-- '<type>:<value>' (var identifier_types; emails and phones as sha256), read from the
-- identifier contract.
with

sightings as (
    select * from {{ ref('stg_contract__identifier_observations') }}
),

final as (
    select
        identifier,
        source,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) as sightings
    from sightings
    group by identifier, source
)

select * from final
