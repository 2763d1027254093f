-- One row per person and UTC day with at least one user-initiated event: the grain
-- of every activity window. days_since_previous_active_day is the gap to the
-- person's previous active day (null on the first), the input of threshold
-- calibration and reactivation.
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where is_user_initiated and person_id is not null
),

sessions as (
    select * from {{ ref('int_sessions_built') }}
),

events_per_day as (
    select
        person_id,
        event_date as activity_date,
        count(*) as events,
        count(distinct channel) as channels,
        max(case when event_category = 'purchase' then 1 else 0 end) = 1 as has_purchase_event
    from events
    group by person_id, event_date
),

sessions_per_day as (
    select
        person_id,
        session_date as activity_date,
        count(*) as sessions_started
    from sessions
    group by person_id, session_date
),

final as (
    select
        events_per_day.person_id,
        events_per_day.activity_date,
        events_per_day.events,
        events_per_day.channels,
        coalesce(sessions_per_day.sessions_started, 0) as sessions_started,
        events_per_day.has_purchase_event,
        {{ dbt.datediff(
            "lag(events_per_day.activity_date) over (partition by events_per_day.person_id order by events_per_day.activity_date)",
            'events_per_day.activity_date',
            'day'
        ) }} as days_since_previous_active_day
    from events_per_day
    left join sessions_per_day
        on
            events_per_day.person_id = sessions_per_day.person_id
            and events_per_day.activity_date = sessions_per_day.activity_date
)

select * from final
