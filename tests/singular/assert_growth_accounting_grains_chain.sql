-- fct_growth_accounting_daily and fct_growth_accounting_weekly are gap-free chains of
-- periods ending in the period of as_of_date, like the monthly mart
-- (assert_growth_accounting_periods_chain): each row's active_previous_persons is the
-- previous row's active_persons (0 on the first row), consecutive rows are one day /
-- one week apart, and the last row is the day / ISO week of as_of_date. Every row
-- returned breaks a chain.
with

daily as (
    select * from {{ ref('fct_growth_accounting_daily') }}
),

weekly as (
    select * from {{ ref('fct_growth_accounting_weekly') }}
),

daily_chained as (
    select
        'day' as period_grain,
        period_start,
        active_previous_persons,
        lag(active_persons) over (order by period_start) as previous_row_active_persons,
        lag(period_start) over (order by period_start) as previous_row_period_start,
        lead(period_start) over (order by period_start) as next_row_period_start,
        as_of_date as as_of_period_start
    from daily
),

weekly_chained as (
    select
        'week' as period_grain,
        period_start,
        active_previous_persons,
        lag(active_persons) over (order by period_start) as previous_row_active_persons,
        lag(period_start) over (order by period_start) as previous_row_period_start,
        lead(period_start) over (order by period_start) as next_row_period_start,
        cast({{ dbt.date_trunc('week', 'as_of_date') }} as date) as as_of_period_start
    from weekly
),

chained as (
    select * from daily_chained
    union all
    select * from weekly_chained
)

select
    period_grain,
    period_start,
    active_previous_persons,
    previous_row_active_persons,
    previous_row_period_start
from chained
where
    active_previous_persons <> coalesce(previous_row_active_persons, 0)
    or (
        period_grain = 'day'
        and cast({{ dbt.dateadd('day', 1, 'previous_row_period_start') }} as date) <> period_start
    )
    or (
        period_grain = 'week'
        and cast({{ dbt.dateadd('week', 1, 'previous_row_period_start') }} as date) <> period_start
    )
    or (next_row_period_start is null and period_start <> as_of_period_start)
