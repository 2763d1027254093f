-- One row per raw messaging webhook: typed, recipient normalised per channel
-- (email / phone / device id), mapped to the taxonomy and validated.
{{ config(
    enabled=lw_source_enabled('messaging'),
    materialized=lw_upsert_materialization(),
    incremental_strategy='append',
) }}
{#- an incremental table: each run reads the landing files it has not read before
    (macros/staging/lw_landing_file_batch.sql) -#}
{%- set batch = lw_landing_file_batch('messaging', 'webhooks') %}
with

landing_files as (
    {{ lw_landing_files_read(batch) }}
),

source as (
    select * from {{ lw_landing_rows('messaging', 'webhooks', files=batch.read) }}
),

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
    where source = 'messaging'
),

default_country as (
    select calling_code from {{ ref('country_codes') }}
    where country_code = '{{ var("default_country_code") }}'
),

typed as (
    select
        source.webhook_id,
        source.message_id,
        source.campaign_id,
        lower(trim(source.channel)) as message_channel,
        source.event as source_event_name,
        {{ lw_iso8601_to_utc('source.occurred_at') }} as event_at,
        {{ lw_iso8601_to_utc('source._loaded_at') }} as loaded_at,
        case when lower(trim(source.channel)) = 'email' then {{ lw_normalize_email('source.recipient') }} end
            as recipient_email,
        case
            when lower(trim(source.channel)) in ('sms', 'whatsapp')
                then {{ lw_normalize_phone('source.recipient', 'default_country.calling_code') }}
        end as recipient_phone,
        case when lower(trim(source.channel)) in ('push', 'in_app') then trim(source.recipient) end
            as recipient_device_id,
        {{ lw_row_struct('source') }} as landing_row,
        {{ lw_landing_path_column('source') }} as _lw_path
    from source
    cross join default_country
),

validated as (
    select
        typed.*,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        case
            when typed.webhook_id is null then 'missing_webhook_id'
            when
                typed.message_channel not in ('email', 'sms', 'push', 'whatsapp', 'in_app')
                or typed.message_channel is null then 'unknown_channel'
            when typed.message_channel = 'email' and not {{ lw_is_valid_id('typed.recipient_email', 'email') }}
                then 'malformed_email'
            when typed.message_channel in ('sms', 'whatsapp') and typed.recipient_phone is null
                then 'malformed_phone'
            when
                typed.message_channel in ('push', 'in_app')
                and not {{ lw_is_valid_id('typed.recipient_device_id', 'device') }}
                then 'malformed_device_id'
            when taxonomy.event_name is null then 'unknown_event_name'
            when typed.event_at is null or typed.loaded_at is null then 'unparseable_timestamp'
            when {{ lw_is_future_timestamp('typed.event_at', 'typed.loaded_at') }} then 'future_timestamp'
            when {{ lw_is_before_min_event_date('typed.event_at') }} then 'timestamp_before_min_event_date'
        end as reject_reason
    from typed
    left join taxonomy
        on typed.source_event_name = taxonomy.source_event_name
),

final as (
    select
        validated.webhook_id,
        validated.message_id,
        validated.campaign_id,
        validated.message_channel,
        validated.source_event_name,
        validated.event_at,
        validated.loaded_at,
        validated.recipient_email,
        validated.recipient_phone,
        validated.recipient_device_id,
        validated.event_name,
        validated.event_category,
        validated.channel,
        validated.is_user_initiated,
        validated.reject_reason,
        landing_files._lw_file,
        landing_files._lw_file_size,
        landing_files._lw_file_modified_at,
        -- the run that read the file: data tests of an incremental run check these rows
        {{ lw_run_started_at() }} as dbt_updated_at,
        -- the raw row is kept for rejected rows only (the quarantine's)
        case
            when validated.reject_reason is not null then {{ lw_landing_record('validated.landing_row') }}
        end as raw_record
    from validated
    left join landing_files
        on validated._lw_path = landing_files._lw_path
)

select * from final
