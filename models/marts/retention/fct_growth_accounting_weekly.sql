-- One row per ISO week (Monday to Sunday, period_start a Monday) from the first week
-- with an active day up to the week of as_of_date: growth accounting of active persons
-- (>= 1 active day in the week, int_person_days) - new, retained (active the week
-- before too), resurrected, churned. Same columns, identities and population as the
-- monthly fct_growth_accounting (macro lw_growth_accounting); the week of as_of_date
-- counts activity up to as_of_date only (is_complete_period).
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

person_days as (
    select * from {{ ref('int_counted_person_days') }}
),

final as (
    {{ lw_growth_accounting('person_days', 'as_of', 'week') }}
)

select * from final
