-- One row per valid event of any declared event source (docs/sources.md), first
-- delivery of an event id kept (the earliest loaded_at, then event_at): in the
-- taxonomy, identifiers typed in the declared order of precedence.
{{ config(enabled=var('event_sources') | length > 0) }}
with

validated as {{ lw_deduplicate_input() }} (
    select * from {{ ref('base_events__events') }}
    where reject_reason is null
),

deduplicated as (
    {{ lw_deduplicate('validated', 'event_key', 'loaded_at, event_at, record_hash') }}
),

final as (
    select
        event_key,
        source,
        event_id,
        source_event_name,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        cast(event_at as date) as event_date,
        device,
        has_load_time,
        identifier_1,
        identifier_2,
        identifier_3,
        identifier_4,
        identifier_5,
        loaded_at,
        {{ lw_is_late_arriving('event_at', 'loaded_at') }} as is_late_arriving
    from deduplicated
)

select * from final
