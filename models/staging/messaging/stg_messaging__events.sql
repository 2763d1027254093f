-- One row per messaging webhook that passed validation, first delivery kept.
-- The recipient leaves staging only as a hash (email / phone) or a device id.
with

validated as (
    select * from {{ ref('base_messaging__webhooks') }}
    where reject_reason is null
),

deduplicated as (
    {{ lw_deduplicate('validated', 'webhook_id', 'loaded_at, raw_record') }}
),

final as (
    select
        webhook_id,
        message_id,
        campaign_id,
        message_channel,
        source_event_name,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        {{ lw_hash_pii('recipient_email') }} as recipient_email_hash,
        {{ lw_hash_pii('recipient_phone') }} as recipient_phone_hash,
        recipient_device_id,
        event_at,
        cast(event_at as date) as event_date,
        loaded_at,
        {{ lw_is_late_arriving('event_at', 'loaded_at') }} as is_late_arriving
    from deduplicated
)

select * from final
