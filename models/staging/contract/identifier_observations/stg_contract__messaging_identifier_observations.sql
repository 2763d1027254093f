-- The identifier a message webhook (stg_messaging__events) is addressed to: the
-- recipient's email, else phone, else device.
-- One source's part of stg_contract__identifier_observations (the union, whose YAML
-- documents the columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('messaging')) }}
with

messaging_events as (
    select * from {{ ref('stg_messaging__events') }}
),

final as (
    select
        'messaging' as source,
        coalesce(
            {{ lw_typed_identifier('email', 'recipient_email_hash') }},
            {{ lw_typed_identifier('phone', 'recipient_phone_hash') }},
            {{ lw_typed_identifier('device', 'recipient_device_id') }}
        ) as identifier,
        event_at as seen_at
    from messaging_events
)

select * from final
