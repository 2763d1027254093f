-- decline_alert (fct_customer_triggers): is_declining on as_of_date
-- (int_person_activity_metrics); the evidence is the person's last user-initiated
-- event before the end of as_of_date. One row per person it fires for; the episode
-- starts on the first day of the current run of declining days
-- (int_person_decline_episodes).
with

trigger_window as (
    select * from {{ ref('int_triggers__window') }}
),

events as (
    select * from {{ ref('int_events_unioned') }}
    where is_user_initiated and person_id is not null
),

activity_metrics as (
    select * from {{ ref('int_person_activity_metrics') }}
),

decline_episodes as (
    select * from {{ ref('int_person_decline_episodes') }}
),

declining as (
    select
        activity_metrics.person_id,
        activity_metrics.active_days_30d,
        activity_metrics.active_days_prev_30d,
        max(events.event_at) as last_event_at
    from activity_metrics
    inner join events
        on activity_metrics.person_id = events.person_id
    cross join trigger_window
    where
        activity_metrics.is_declining
        and events.event_at < trigger_window.window_end_at
    group by activity_metrics.person_id, activity_metrics.active_days_30d, activity_metrics.active_days_prev_30d
),

final as (
    select
        declining.person_id,
        'decline_alert' as trigger_name,
        declining.last_event_at as evidence_at,
        decline_episodes.episode_started_on,
        'active days fell from ' || cast(declining.active_days_prev_30d as {{ dbt.type_string() }})
        || ' (previous 30 days) to ' || cast(declining.active_days_30d as {{ dbt.type_string() }})
        || ' (last 30 days)' as evidence
    from declining
    inner join decline_episodes
        on declining.person_id = decline_episodes.person_id
)

select * from final
