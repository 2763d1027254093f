{#-
    Activity metrics per person and snapshot date — the one implementation used for
    as_of_date (int_person_activity_metrics) and for every monthly snapshot
    (int_person_snapshot_metrics), so history and today follow the same rules.

    Takes relations (or CTE names), never ref(): the model names its parents.
    snapshots: snapshot_date and previous_snapshot_date (events in
    (previous_snapshot_date, snapshot_date] belong to that snapshot's period);
    persons: int_persons; person_days: int_person_days; thresholds: int_lifecycle_thresholds.
    Returns a select with one row per person (first seen on or before the snapshot)
    and snapshot. Windows end on the snapshot date inclusive: "last 30 days" of D is
    D-29 .. D; "previous 30 days" is D-59 .. D-30.
-#}
{% macro lw_activity_metrics(snapshots, persons, person_days, thresholds) -%}
with

snapshots as (
    select snapshot_date, previous_snapshot_date from {{ snapshots }} as snapshots_input
),

-- persons made only of excluded identifiers (kiosk ids, test accounts) are not
-- customers: they get no lifecycle (their rows stay in int_persons, flagged)
persons as (
    select
        person_id,
        cast(first_seen_at as date) as first_seen_date
    from {{ persons }} as persons_input
    where not is_only_excluded_identifiers
),

person_days as (
    select * from {{ person_days }} as person_days_input
),

thresholds as (
    select dormant_days from {{ thresholds }} as thresholds_input
),

grid as (
    select
        persons.person_id,
        persons.first_seen_date,
        snapshots.snapshot_date
    from persons
    inner join snapshots
        on persons.first_seen_date <= snapshots.snapshot_date
),

-- each active day counted once, in the period of the snapshot it falls into
per_period as (
    select
        person_days.person_id,
        snapshots.snapshot_date,
        min(person_days.activity_date) as first_active_in_period,
        max(person_days.activity_date) as last_active_in_period,
        count(*) as active_days_in_period,
        sum(person_days.sessions_started) as sessions_in_period,
        max(
            case when person_days.days_since_previous_active_day > thresholds.dormant_days
                then person_days.activity_date end
        ) as last_return_in_period
    from person_days
    inner join snapshots
        on
            person_days.activity_date > snapshots.previous_snapshot_date
            and person_days.activity_date <= snapshots.snapshot_date
    cross join thresholds
    group by person_days.person_id, snapshots.snapshot_date
),

cumulative as (
    select
        grid.person_id,
        grid.first_seen_date,
        grid.snapshot_date,
        min(per_period.first_active_in_period) over person_history as first_active_date,
        max(per_period.last_active_in_period) over person_history as last_active_date,
        sum(coalesce(per_period.active_days_in_period, 0)) over person_history as active_days_total,
        sum(coalesce(per_period.sessions_in_period, 0)) over person_history as sessions_total,
        max(per_period.last_return_in_period) over person_history as last_returned_date
    from grid
    left join per_period
        on
            grid.person_id = per_period.person_id
            and grid.snapshot_date = per_period.snapshot_date
    window person_history as (
        partition by grid.person_id order by grid.snapshot_date
        rows between unbounded preceding and current row
    )
),

-- active days of the 90 days up to each snapshot (each day joins at most the
-- snapshots within 90 days after it)
recent_windows as (
    select
        person_days.person_id,
        snapshots.snapshot_date,
        count(case when person_days.activity_date > {{ dbt.dateadd('day', -7, 'snapshots.snapshot_date') }} then 1 end)
            as active_days_7d,
        count(case when person_days.activity_date > {{ dbt.dateadd('day', -30, 'snapshots.snapshot_date') }} then 1 end)
            as active_days_30d,
        count(*) as active_days_90d,
        count(
            case
                when
                    person_days.activity_date > {{ dbt.dateadd('day', -60, 'snapshots.snapshot_date') }}
                    and person_days.activity_date <= {{ dbt.dateadd('day', -30, 'snapshots.snapshot_date') }}
                    then 1
            end
        ) as active_days_prev_30d,
        sum(
            case
                when person_days.activity_date > {{ dbt.dateadd('day', -30, 'snapshots.snapshot_date') }}
                    then person_days.sessions_started
                else 0
            end
        ) as sessions_30d
    from person_days
    inner join snapshots
        on
            person_days.activity_date <= snapshots.snapshot_date
            and person_days.activity_date > {{ dbt.dateadd('day', -90, 'snapshots.snapshot_date') }}
    group by person_days.person_id, snapshots.snapshot_date
),

activity_metrics as (
    select
        cumulative.person_id,
        cumulative.snapshot_date,
        cumulative.first_seen_date,
        cumulative.first_active_date,
        cumulative.last_active_date,
        {{ lw_days_between('cumulative.last_active_date', 'cumulative.snapshot_date') }} as days_since_last_active,
        cast(cumulative.active_days_total as {{ dbt.type_bigint() }}) as active_days_total,
        cast(coalesce(recent_windows.active_days_7d, 0) as {{ dbt.type_bigint() }}) as active_days_7d,
        cast(coalesce(recent_windows.active_days_30d, 0) as {{ dbt.type_bigint() }}) as active_days_30d,
        cast(coalesce(recent_windows.active_days_90d, 0) as {{ dbt.type_bigint() }}) as active_days_90d,
        cast(coalesce(recent_windows.active_days_prev_30d, 0) as {{ dbt.type_bigint() }}) as active_days_prev_30d,
        case
            when coalesce(recent_windows.active_days_prev_30d, 0) > 0
                -- double on every engine (a decimal literal makes Spark compute in decimal)
                then round(
                    cast(100 * (coalesce(recent_windows.active_days_30d, 0) - recent_windows.active_days_prev_30d)
                        as double)
                    / recent_windows.active_days_prev_30d,
                    1
                )
        end as active_days_30d_change_pct,
        {{ lw_is_declining('recent_windows.active_days_30d', 'recent_windows.active_days_prev_30d') }}
            as is_declining,
        cast(cumulative.sessions_total as {{ dbt.type_bigint() }}) as sessions_total,
        cast(coalesce(recent_windows.sessions_30d, 0) as {{ dbt.type_bigint() }}) as sessions_30d,
        cumulative.last_returned_date
    from cumulative
    left join recent_windows
        on
            cumulative.person_id = recent_windows.person_id
            and cumulative.snapshot_date = recent_windows.snapshot_date
)

select * from activity_metrics
{%- endmacro %}
