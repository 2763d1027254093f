-- One row per period grain (day, week, month) × cohort (persons whose first active
-- period is cohort_period_start) × periods_since: how many of the cohort's persons are
-- active (>= 1 active day, int_person_days) in the period periods_since periods after
-- the cohort's - the retention triangle. Bounds (DECISIONLOG "Cohort retention"):
-- days 0 .. 90, weeks 0 .. 52, months all (up to the month of as_of_date); every
-- cohort of the history up to as_of_date. Weeks are ISO (Monday to Sunday). Same
-- population as growth accounting: persons made only of excluded identifiers are not
-- counted. Macro lw_cohort_retention (the same active periods as lw_growth_accounting).
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

person_days as (
    select * from {{ ref('int_counted_person_days') }}
),

daily as (
    {{ lw_cohort_retention('person_days', 'as_of', 'day', max_periods_since=90) }}
),

weekly as (
    {{ lw_cohort_retention('person_days', 'as_of', 'week', max_periods_since=52) }}
),

monthly as (
    {{ lw_cohort_retention('person_days', 'as_of', 'month') }}
),

final as (
    select * from daily
    union all
    select * from weekly
    union all
    select * from monthly
)

select * from final
