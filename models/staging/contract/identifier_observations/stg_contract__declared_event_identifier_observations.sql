-- The identifiers the events of the declared event files (stg_events__events)
-- carry.
-- One source's part of stg_contract__identifier_observations (the union, whose YAML
-- documents the columns); in the build only when the source is.
{{ config(enabled=var('event_sources') | length > 0) }}
with

declared_events_staged as (
    select * from {{ ref('stg_events__events') }}
),

final as (
    {{ lw_declared_identifier_sightings('declared_events_staged', 'event_at') }}
)

select * from final
