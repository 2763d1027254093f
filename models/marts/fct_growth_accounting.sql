-- One row per calendar month from the first month with an active day up to the month
-- of as_of_date: growth accounting of active persons (>= 1 active day in the month,
-- int_person_days). Every person active in a month is exactly one of new (first
-- active month), retained (also active the month before) or resurrected (not active
-- the month before, but earlier); every person active the month before is retained
-- or churned. So active = new + retained + resurrected and
-- active_previous = retained + churned hold on every row by construction (tested).
-- The month of as_of_date counts activity up to as_of_date only (is_complete_period).
-- Persons made only of excluded identifiers (kiosk ids, test accounts) are not counted,
-- as in every other mart (fct_customer_lifecycle, fct_rfm, fct_customer_value, triggers).
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

persons as (
    select * from {{ ref('int_persons') }}
),

person_days as (
    select person_days.*
    from {{ ref('int_person_days') }} as person_days
    inner join persons
        on person_days.person_id = persons.person_id
    where not persons.is_only_excluded_identifiers
),

as_of_month as (
    select
        as_of_date,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) as as_of_period_start
    from as_of
),

active_months as (
    select distinct
        person_days.person_id,
        cast({{ dbt.date_trunc('month', 'person_days.activity_date') }} as date) as period_start
    from person_days
    cross join as_of
    where person_days.activity_date <= as_of.as_of_date
),

sequenced as (
    select
        person_id,
        period_start,
        cast({{ dbt.dateadd('month', -1, 'period_start') }} as date) as previous_period_start,
        cast({{ dbt.dateadd('month', 1, 'period_start') }} as date) as next_period_start,
        lag(period_start) over (partition by person_id order by period_start) as previous_active_period_start,
        lead(period_start) over (partition by person_id order by period_start) as next_active_period_start
    from active_months
),

-- what each active person-month is, and whether the person is gone the month after
classified as (
    select
        person_id,
        period_start,
        next_period_start,
        case
            when previous_active_period_start is null then 'new'
            when previous_active_period_start = previous_period_start then 'retained'
            else 'resurrected'
        end as activity_status,
        coalesce(next_active_period_start <> next_period_start, true) as churns_next_period
    from sequenced
),

active_counts as (
    select
        period_start,
        count(*) as active_persons,
        count(case when activity_status = 'new' then 1 end) as new_persons,
        count(case when activity_status = 'retained' then 1 end) as retained_persons,
        count(case when activity_status = 'resurrected' then 1 end) as resurrected_persons
    from classified
    group by period_start
),

-- persons active in a month count as active_previous / churned in the month after
following_counts as (
    select
        next_period_start as period_start,
        count(*) as active_previous_persons,
        count(case when churns_next_period then 1 end) as churned_persons
    from classified
    group by next_period_start
),

first_period as (
    select min(period_start) as first_period_start
    from active_months
),

-- up to 240 months (20 years) of history, like int_lifecycle_snapshot_dates
month_numbers as (
    {{ dbt.generate_series(240) }}
),

periods as (
    select
        cast(
            {{ dbt.dateadd('month', 'month_numbers.generated_number - 1', 'first_period.first_period_start') }}
            as date
        ) as period_start
    from first_period
    cross join month_numbers
),

periods_until_as_of as (
    select
        periods.period_start,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'periods.period_start')) }}
            as date
        ) as month_end_date,
        as_of_month.as_of_date
    from periods
    cross join as_of_month
    where periods.period_start <= as_of_month.as_of_period_start
),

final as (
    select
        periods_until_as_of.period_start,
        least(periods_until_as_of.month_end_date, periods_until_as_of.as_of_date) as period_end,
        periods_until_as_of.as_of_date,
        periods_until_as_of.month_end_date <= periods_until_as_of.as_of_date as is_complete_period,
        cast(coalesce(active_counts.active_persons, 0) as {{ dbt.type_bigint() }}) as active_persons,
        cast(coalesce(active_counts.new_persons, 0) as {{ dbt.type_bigint() }}) as new_persons,
        cast(coalesce(active_counts.retained_persons, 0) as {{ dbt.type_bigint() }}) as retained_persons,
        cast(coalesce(active_counts.resurrected_persons, 0) as {{ dbt.type_bigint() }}) as resurrected_persons,
        cast(coalesce(following_counts.churned_persons, 0) as {{ dbt.type_bigint() }}) as churned_persons,
        cast(coalesce(following_counts.active_previous_persons, 0) as {{ dbt.type_bigint() }})
            as active_previous_persons,
        -- growth quick ratio: persons gained per person lost; null without churn
        cast(coalesce(active_counts.new_persons, 0) + coalesce(active_counts.resurrected_persons, 0) as double)
        / nullif(following_counts.churned_persons, 0) as quick_ratio,
        cast(coalesce(active_counts.retained_persons, 0) as double)
        / nullif(following_counts.active_previous_persons, 0) as retention_rate
    from periods_until_as_of
    left join active_counts
        on periods_until_as_of.period_start = active_counts.period_start
    left join following_counts
        on periods_until_as_of.period_start = following_counts.period_start
)

select * from final
