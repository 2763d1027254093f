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
-- The rules are lw_growth_accounting's, shared with the daily and weekly siblings
-- (fct_growth_accounting_daily, fct_growth_accounting_weekly).
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

person_days as (
    select * from {{ ref('int_counted_person_days') }}
),

final as (
    {{ lw_growth_accounting('person_days', 'as_of', 'month') }}
)

select * from final
