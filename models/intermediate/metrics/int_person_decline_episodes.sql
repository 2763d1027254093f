-- One row per person declining on as_of_date (int_person_activity_metrics): the first
-- day of the current run of consecutive declining days, so decline_alert fires once
-- per episode (fct_customer_triggers.episode_started_on) instead of every day of it.
-- Each of the var('trigger_episode_lookback_days') days up to as_of_date is tested
-- with the same rule (macro lw_is_declining) on that day's 30-day windows; a decline
-- longer than the lookback starts on its first day (is_episode_start_capped).
{%- set lookback_days = var('trigger_episode_lookback_days') %}
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

activity_metrics as (
    select * from {{ ref('int_person_activity_metrics') }}
    where is_declining
),

person_days as (
    select * from {{ ref('int_person_days') }}
),

day_offsets as (
    {{ dbt.generate_series(lookback_days) }}
),

candidate_days as (
    select
        activity_metrics.person_id,
        cast({{ dbt.dateadd('day', '1 - day_offsets.generated_number', 'as_of.as_of_date') }} as date)
            as candidate_date
    from activity_metrics
    cross join as_of
    cross join day_offsets
),

window_counts as (
    select
        candidate_days.person_id,
        candidate_days.candidate_date,
        count(
            case
                when person_days.activity_date > {{ dbt.dateadd('day', -30, 'candidate_days.candidate_date') }}
                    then 1
            end
        ) as active_days_30d,
        count(
            case
                when person_days.activity_date <= {{ dbt.dateadd('day', -30, 'candidate_days.candidate_date') }}
                    then 1
            end
        ) as active_days_prev_30d
    from candidate_days
    left join person_days
        on
            candidate_days.person_id = person_days.person_id
            and candidate_days.candidate_date >= person_days.activity_date
            and {{ dbt.dateadd('day', -60, 'candidate_days.candidate_date') }} < person_days.activity_date
    group by candidate_days.person_id, candidate_days.candidate_date
),

last_not_declining as (
    select
        person_id,
        max(case when not {{ lw_is_declining('active_days_30d', 'active_days_prev_30d') }} then candidate_date end)
            as last_not_declining_date,
        min(candidate_date) as first_candidate_date
    from window_counts
    group by person_id
),

final as (
    select
        person_id,
        cast(
            coalesce(
                {{ dbt.dateadd('day', 1, 'last_not_declining_date') }},
                first_candidate_date
            ) as date
        ) as episode_started_on,
        last_not_declining_date is null as is_episode_start_capped
    from last_not_declining
)

select * from final
