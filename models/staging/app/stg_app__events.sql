-- One row per app event that passed validation, first delivery kept.
-- Incremental: each run appends the validated rows loaded since the last run (minus
-- var('incremental_lookback_hours')) whose key is not yet staged; --full-refresh rebuilds.
{{ config(
    enabled=lw_source_enabled('app'),
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail'
) }}

with

validated as {{ lw_deduplicate_input() }} (
    select * from {{ ref('base_app__events') }}
    where
        reject_reason is null
        and {{ lw_loaded_after_watermark('loaded_at') }}
        and {{ lw_not_yet_loaded('event_id', 'event_id') }}
),

deduplicated as (
    {{ lw_deduplicate(
        'validated',
        'event_id',
        'loaded_at, event_at, source_event_name, device_id, user_id, platform,'
        ~ ' app_version'
    ) }}
),

final as (
    select
        event_id,
        device_id,
        user_id,
        source_event_name,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        cast(event_at as date) as event_date,
        platform,
        app_version,
        loaded_at,
        {{ lw_is_late_arriving('event_at', 'loaded_at') }} as is_late_arriving,
        {{ lw_run_started_at() }} as dbt_updated_at
    from deduplicated
)

select * from final
