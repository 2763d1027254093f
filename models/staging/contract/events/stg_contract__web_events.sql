-- Web events (stg_web__events) as contract events, keyed to the user id, else the
-- cookie.
-- One source's part of stg_contract__events (the union, whose YAML documents the
-- columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('web')) }}
with

web_events as (
    select * from {{ ref('stg_web__events') }}
),

final as (
    select
        'web:' || event_id as event_key,
        'web' as source,
        coalesce({{ lw_typed_identifier('user', 'user_id') }}, {{ lw_typed_identifier('cookie', 'cookie_id') }})
            as identifier,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        device_type as device,
        loaded_at,
        loaded_at as changed_at,
        is_late_arriving,
        true as is_append_only
    from web_events
)

select * from final
