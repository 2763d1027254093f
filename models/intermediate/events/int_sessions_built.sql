-- One row per session: a run of a person's user-initiated events (any channel) with
-- no gap longer than var('session_timeout_minutes') (30). Message sends and other
-- passive events never start or extend a session.
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where is_user_initiated and person_id is not null
),

with_gaps as (
    select
        person_id,
        event_key,
        event_at,
        channel,
        lag(event_at) over (partition by person_id order by event_at, event_key) as previous_event_at
    from events
),

flagged as (
    select
        person_id,
        event_key,
        event_at,
        channel,
        case
            when previous_event_at is null then 1
            when previous_event_at < {{ dbt.dateadd('minute', -var('session_timeout_minutes'), 'event_at') }} then 1
            else 0
        end as is_session_start
    from with_gaps
),

numbered as (
    select
        person_id,
        event_at,
        channel,
        sum(is_session_start) over (
            partition by person_id order by event_at, event_key
            rows between unbounded preceding and current row
        ) as session_number
    from flagged
),

final as (
    select
        person_id || '-' || cast(session_number as {{ dbt.type_string() }}) as session_id,
        person_id,
        cast(session_number as {{ dbt.type_bigint() }}) as session_number,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        cast(min(event_at) as date) as session_date,
        count(*) as events,
        count(distinct channel) as channels
    from numbered
    group by person_id, session_number
)

select * from final
