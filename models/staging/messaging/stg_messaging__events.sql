-- One row per messaging webhook that passed validation, first delivery kept.
-- The recipient leaves staging only as a hash (email / phone) or a device id.
-- Incremental: each run appends the validated rows loaded since the last run (minus
-- var('incremental_lookback_hours')) whose key is not yet staged; --full-refresh rebuilds.
{{ config(
    enabled=lw_source_enabled('messaging'),
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail'
) }}

with

validated as {{ lw_deduplicate_input() }} (
    select * from {{ ref('base_messaging__webhooks') }}
    where
        reject_reason is null
        and {{ lw_loaded_after_watermark('loaded_at') }}
        and {{ lw_not_yet_loaded('webhook_id', 'webhook_id') }}
),

deduplicated as (
    {{ lw_deduplicate(
        'validated',
        'webhook_id',
        'loaded_at, event_at, source_event_name, message_channel,'
        ~ ' recipient_email, recipient_phone, recipient_device_id, message_id,'
        ~ ' campaign_id'
    ) }}
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
        {{ lw_is_late_arriving('event_at', 'loaded_at') }} as is_late_arriving,
        {{ lw_run_started_at() }} as dbt_updated_at
    from deduplicated
)

select * from final
