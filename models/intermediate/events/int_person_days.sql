-- One row per person and UTC day with at least one user-initiated event: the grain of
-- every activity window. days_since_previous_active_day is the gap to the
-- person's previous active day (null on the first), the input of threshold
-- calibration and reactivation.
--
-- Incremental (DECISIONLOG "Incremental models"): only persons with changed events
-- (int_events_unioned rows written since this model last ran) are recomputed, from
-- the UTC date of their earliest changed event on (whole history when their events
-- were re-assigned by identity); their earlier days are kept and written again
-- (delete+insert on person_id), so the day-to-day gaps stay exact across the seam.
{{ config(
    materialized=lw_upsert_materialization(),
    unique_key='person_id',
    incremental_strategy=lw_upsert_strategy(),
    on_schema_change='fail',
    post_hook="{{ lw_delete_stale_person_rows(ref('int_events_unioned')) }}"
) }}
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where is_user_initiated and person_id is not null
),

sessions as (
    select * from {{ ref('int_sessions_built') }}
),

{% if is_incremental() -%}
changed_events as (
    select * from {{ ref('int_events_unioned') }}
    where is_user_initiated and {{ lw_changed_since_last_run() }}
),

-- recompute_from: first day to recompute; null = the person's whole history
restart_points as (
    select
        person_id,
        case when max(needs_full_history) = 0 then min(event_date) end as recompute_from
    from (
        select
            person_id,
            event_date,
            case when previous_person_id is null then 0 else 1 end as needs_full_history
        from changed_events
        where person_id is not null
        union all
        select
            previous_person_id as person_id,
            event_date,
            1 as needs_full_history
        from changed_events
        where previous_person_id is not null
    ) as changes
    group by person_id
),

kept_days as (
    select existing.*
    from {{ this }} as existing
    inner join restart_points
        on existing.person_id = restart_points.person_id
    where existing.activity_date < restart_points.recompute_from
),

events_to_count as (
    select events.*
    from events
    inner join restart_points
        on events.person_id = restart_points.person_id
    where
        restart_points.recompute_from is null
        or events.event_date >= restart_points.recompute_from
),

sessions_to_count as (
    select sessions.*
    from sessions
    inner join restart_points
        on sessions.person_id = restart_points.person_id
    where
        restart_points.recompute_from is null
        or sessions.session_date >= restart_points.recompute_from
),
{%- else %}
events_to_count as (
    select * from events
),

sessions_to_count as (
    select * from sessions
),
{%- endif %}

events_per_day as (
    select
        person_id,
        event_date as activity_date,
        count(*) as events,
        count(distinct channel) as channels,
        max(case when event_category = 'purchase' then 1 else 0 end) = 1 as has_purchase_event
    from events_to_count
    group by person_id, event_date
),

sessions_per_day as (
    select
        person_id,
        session_date as activity_date,
        count(*) as sessions_started
    from sessions_to_count
    group by person_id, session_date
),

recomputed_days as (
    select
        events_per_day.person_id,
        events_per_day.activity_date,
        events_per_day.events,
        events_per_day.channels,
        events_per_day.has_purchase_event,
        coalesce(sessions_per_day.sessions_started, 0) as sessions_started
    from events_per_day
    left join sessions_per_day
        on
            events_per_day.person_id = sessions_per_day.person_id
            and events_per_day.activity_date = sessions_per_day.activity_date
),

all_days as (
    select * from recomputed_days
    {% if is_incremental() -%}
    union all
    select
        person_id,
        activity_date,
        events,
        channels,
        has_purchase_event,
        sessions_started
    from kept_days
    {%- endif %}
),

final as (
    select
        person_id,
        activity_date,
        events,
        channels,
        sessions_started,
        has_purchase_event,
        {{ lw_days_between(
            "lag(activity_date) over (partition by person_id order by activity_date)",
            'activity_date'
        ) }} as days_since_previous_active_day,
        {{ lw_run_started_at() }} as dbt_updated_at
    from all_days
)

select * from final
