-- The identifiers app events (stg_app__events) carry: the device, and the user id
-- when signed in.
-- One source's part of stg_contract__identifier_observations (the union, whose YAML
-- documents the columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('app')) }}
with

app_events as (
    select * from {{ ref('stg_app__events') }}
),

final as (
    select
        'app' as source,
        {{ lw_typed_identifier('device', 'device_id') }} as identifier,
        event_at as seen_at
    from app_events
    union all
    select
        'app' as source,
        {{ lw_typed_identifier('user', 'user_id') }} as identifier,
        event_at as seen_at
    from app_events
    where user_id is not null
)

select * from final
