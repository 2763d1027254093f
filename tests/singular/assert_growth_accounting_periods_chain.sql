-- fct_growth_accounting is a gap-free chain of months ending in the month of as_of_date:
-- each row's active_previous_persons is the previous row's active_persons (0 on the
-- first row), consecutive rows are one month apart, and the last row is the month of
-- as_of_date. (The per-row identities are expression_is_true tests in the YAML.) Every
-- row returned breaks the chain.
with

growth as (
    select * from {{ ref('fct_growth_accounting') }}
),

chained as (
    select
        period_start,
        as_of_date,
        active_previous_persons,
        lag(active_persons) over (order by period_start) as previous_row_active_persons,
        lag(period_start) over (order by period_start) as previous_row_period_start,
        lead(period_start) over (order by period_start) as next_row_period_start
    from growth
)

select
    period_start,
    active_previous_persons,
    previous_row_active_persons,
    previous_row_period_start
from chained
where
    active_previous_persons <> coalesce(previous_row_active_persons, 0)
    or (
        previous_row_period_start is not null
        and cast({{ dbt.dateadd('month', 1, 'previous_row_period_start') }} as date) <> period_start
    )
    or (
        next_row_period_start is null
        and period_start <> cast({{ dbt.date_trunc('month', 'as_of_date') }} as date)
    )
