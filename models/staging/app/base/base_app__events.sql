-- One row per raw app event row: typed (epoch ms → UTC), mapped to the taxonomy
-- and validated. reject_reason is null for rows fit for staging.
{{ config(
    enabled=lw_source_enabled('app'),
    materialized=lw_upsert_materialization(),
    incremental_strategy='append',
) }}
{#- an incremental table: each run reads the landing files it has not read before
    (macros/staging/lw_landing_file_batch.sql) -#}
{%- set batch = lw_landing_file_batch('app', 'events') %}
with

landing_files as (
    {{ lw_landing_files_read(batch) }}
),

source as (
    select * from {{ lw_landing_rows('app', 'events', files=batch.read) }}
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
        {{ lw_row_struct('source') }} as landing_row,
        {{ lw_landing_path_column('source') }} as _lw_path
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
),

final as (
    select
        validated.event_id,
        validated.device_id,
        validated.user_id,
        validated.source_event_name,
        validated.event_at,
        validated.loaded_at,
        validated.source_platform,
        validated.platform,
        validated.app_version,
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
