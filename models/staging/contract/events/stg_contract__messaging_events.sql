-- Message webhooks (stg_messaging__events) as contract events, keyed to the
-- recipient's email, else phone, else device.
-- One source's part of stg_contract__events (the union, whose YAML documents the
-- columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('messaging')) }}
with

messaging_events as (
    select * from {{ ref('stg_messaging__events') }}
),

final as (
    select
        'messaging:' || webhook_id as event_key,
        'messaging' as source,
        coalesce(
            {{ lw_typed_identifier('email', 'recipient_email_hash') }},
            {{ lw_typed_identifier('phone', 'recipient_phone_hash') }},
            {{ lw_typed_identifier('device', 'recipient_device_id') }}
        ) as identifier,
        event_name,
        event_category,
        message_channel as channel,
        is_user_initiated,
        event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        loaded_at,
        loaded_at as changed_at,
        is_late_arriving,
        true as is_append_only
    from messaging_events
)

select * from final
