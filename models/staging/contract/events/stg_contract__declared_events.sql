-- The events of the declared event files (stg_events__events) as contract events.
-- One source's part of stg_contract__events (the union, whose YAML documents the
-- columns); in the build only when the source is.
{{ config(enabled=var('event_sources') | length > 0) }}
with

declared_events_staged as (
    select * from {{ ref('stg_events__events') }}
),

-- the first identifier present (the declared order of precedence) resolves the person
final as (
    select
        event_key,
        source,
        coalesce(identifier_1, identifier_2, identifier_3, identifier_4, identifier_5) as identifier,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        device,
        loaded_at,
        -- without a load time a later file may bring older events: re-read every build
        case when has_load_time then loaded_at else {{ lw_run_started_at() }} end as changed_at,
        is_late_arriving,
        has_load_time as is_append_only
    from declared_events_staged
)

select * from final
