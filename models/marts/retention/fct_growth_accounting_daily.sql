-- One row per UTC day from the first active day up to as_of_date: growth accounting of
-- active persons (>= 1 active day, int_person_days) at day grain - new (first active
-- day), retained (active the day before too), resurrected (not the day before, but
-- earlier), churned (active the day before, not this day). Same columns, identities
-- and population as the monthly fct_growth_accounting (macro lw_growth_accounting);
-- every day up to as_of_date is complete.
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

person_days as (
    select * from {{ ref('int_counted_person_days') }}
),

final as (
    {{ lw_growth_accounting('person_days', 'as_of', 'day') }}
)

select * from final
