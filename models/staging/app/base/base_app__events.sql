-- One row per raw app event row: typed (epoch ms → UTC), mapped to the taxonomy
-- and validated. reject_reason is null for rows fit for staging.
{{ config(enabled=lw_source_enabled('app')) }}
with

source as (
    select * from {{ source('app', 'events') }}
),

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
    where source = 'app'
),

typed as (
    select
        source.event_id,
        source.device_id,
        nullif(trim(source.user_id), '') as user_id,
        source.event_name as source_event_name,
        {{ lw_epoch_ms_to_timestamp('source.event_ts_ms') }} as event_at,
        {{ lw_safe_cast('source._loaded_at', 'timestamp') }} as loaded_at,
        source.platform as source_platform,
        {{ lw_known_value('source.platform', ['iOS', 'Android']) }} as platform,
        source.app_version,
        {{ lw_row_to_json('source') }} as raw_record
    from source
),

validated as (
    select
        typed.*,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        case
            when typed.event_id is null then 'missing_event_id'
            when not {{ lw_is_valid_id('typed.device_id', 'device') }} then 'malformed_device_id'
            when typed.user_id is not null and not {{ lw_is_valid_id('typed.user_id', 'user') }}
                then 'malformed_user_id'
            when taxonomy.event_name is null then 'unknown_event_name'
            when typed.event_at is null or typed.loaded_at is null then 'missing_timestamp'
            when {{ lw_is_future_timestamp('typed.event_at', 'typed.loaded_at') }} then 'future_timestamp'
            when {{ lw_is_before_min_event_date('typed.event_at') }} then 'timestamp_before_min_event_date'
        end as reject_reason
    from typed
    left join taxonomy
        on typed.source_event_name = taxonomy.source_event_name
)

select * from validated
