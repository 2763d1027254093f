-- One row per session: a run of a person's user-initiated events (any channel) with
-- no gap longer than var('session_timeout_minutes') (30). Message sends and other
-- passive events never start or extend a session.
--
-- Incremental (DECISIONLOG "Incremental models"): only persons with changed events
-- (int_events_unioned rows written since this model last ran) are recomputed, and
-- only from their last session that started at or before their earliest changed
-- event: earlier sessions cannot change (an event can only extend the session before
-- it or join it to the next one). A person whose events were re-assigned by identity
-- (previous_person_id set) is recomputed whole. Every session of a recomputed person is
-- written again (delete+insert on person_id); a post_hook deletes the older rows of
-- changed persons left without sessions (e.g. merged into another person).
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

{% if is_incremental() -%}
changed_events as (
    select * from {{ ref('int_events_unioned') }}
    where is_user_initiated and {{ lw_changed_since_last_run() }}
),

affected_persons as (
    select
        person_id,
        min(event_at) as earliest_changed_at,
        max(needs_full_history) as needs_full_history
    from (
        select
            person_id,
            event_at,
            case when previous_person_id is null then 0 else 1 end as needs_full_history
        from changed_events
        where person_id is not null
        union all
        select
            previous_person_id as person_id,
            event_at,
            1 as needs_full_history
        from changed_events
        where previous_person_id is not null
    ) as changes
    group by person_id
),

existing_sessions as (
    select * from {{ this }}
    where person_id in (select affected_persons.person_id from affected_persons)
),

-- recompute_from: start of the last session at or before the earliest changed event;
-- null = recompute the person's whole history
restart_points as (
    select
        affected_persons.person_id,
        case
            when affected_persons.needs_full_history = 0
                then max(
                    case
                        when existing_sessions.started_at <= affected_persons.earliest_changed_at
                            then existing_sessions.started_at
                    end
                )
        end as recompute_from
    from affected_persons
    left join existing_sessions
        on affected_persons.person_id = existing_sessions.person_id
    group by affected_persons.person_id, affected_persons.needs_full_history
),

kept_sessions as (
    select existing_sessions.*
    from existing_sessions
    inner join restart_points
        on existing_sessions.person_id = restart_points.person_id
    where existing_sessions.started_at < restart_points.recompute_from
),

session_offsets as (
    select
        restart_points.person_id,
        restart_points.recompute_from,
        count(kept_sessions.session_id) as sessions_before
    from restart_points
    left join kept_sessions
        on restart_points.person_id = kept_sessions.person_id
    group by restart_points.person_id, restart_points.recompute_from
),

events_to_sessionize as (
    select
        events.person_id,
        events.event_key,
        events.event_at,
        events.channel,
        session_offsets.sessions_before
    from events
    inner join session_offsets
        on events.person_id = session_offsets.person_id
    where
        session_offsets.recompute_from is null
        or events.event_at >= session_offsets.recompute_from
),
{%- else %}
events_to_sessionize as (
    select
        person_id,
        event_key,
        event_at,
        channel,
        0 as sessions_before
    from events
),
{%- endif %}

with_gaps as (
    select
        person_id,
        event_key,
        event_at,
        channel,
        sessions_before,
        lag(event_at) over (partition by person_id order by event_at, event_key) as previous_event_at
    from events_to_sessionize
),

flagged as (
    select
        person_id,
        event_key,
        event_at,
        channel,
        sessions_before,
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
        sessions_before + sum(is_session_start) over (
            partition by person_id order by event_at, event_key
            rows between unbounded preceding and current row
        ) as session_number
    from flagged
),

recomputed as (
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
),

final as (
    select
        recomputed.*,
        {{ lw_run_started_at() }} as dbt_updated_at
    from recomputed
    {% if is_incremental() -%}
    union all
    select
        session_id,
        person_id,
        session_number,
        started_at,
        ended_at,
        session_date,
        events,
        channels,
        {{ lw_run_started_at() }} as dbt_updated_at
    from kept_sessions
    {%- endif %}
)

select * from final
