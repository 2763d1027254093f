-- One row per web event that passed validation, first delivery kept.
-- Incremental: each run appends the validated rows loaded since the last run (minus
-- var('incremental_lookback_hours')) whose key is not yet staged; --full-refresh rebuilds.
{{ config(
    enabled=lw_source_enabled('web'),
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail'
) }}

with

validated as {{ lw_deduplicate_input() }} (
    select * from {{ ref('base_web__events') }}
    where
        reject_reason is null
        and {{ lw_loaded_after_watermark('loaded_at') }}
        and {{ lw_not_yet_loaded('event_id', 'event_id') }}
),

deduplicated as (
    {{ lw_deduplicate(
        'validated',
        'event_id',
        'loaded_at, event_at, source_event_name, cookie_id, user_id, page_url,'
        ~ ' product_id, device_type, browser, utm_source, utm_medium, utm_campaign'
    ) }}
),

final as (
    select
        event_id,
        cookie_id,
        user_id,
        source_event_name,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        cast(event_at as date) as event_date,
        page_url,
        product_id,
        device_type,
        browser,
        utm_source,
        utm_medium,
        utm_campaign,
        loaded_at,
        {{ lw_is_late_arriving('event_at', 'loaded_at') }} as is_late_arriving,
        {{ lw_run_started_at() }} as dbt_updated_at
    from deduplicated
)

select * from final
