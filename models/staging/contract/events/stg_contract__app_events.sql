-- App events (stg_app__events) as contract events, keyed to the user id, else the
-- device.
-- One source's part of stg_contract__events (the union, whose YAML documents the
-- columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('app')) }}
with

app_events as (
    select * from {{ ref('stg_app__events') }}
),

final as (
    select
        'app:' || event_id as event_key,
        'app' as source,
        coalesce({{ lw_typed_identifier('user', 'user_id') }}, {{ lw_typed_identifier('device', 'device_id') }})
            as identifier,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        platform as device,
        loaded_at,
        loaded_at as changed_at,
        is_late_arriving,
        true as is_append_only
    from app_events
)

select * from final
