{#-
    Growth accounting and cohort retention of active persons at one period grain
    ('day', 'month', or 'week': ISO weeks, Monday to Sunday, as dbt.date_trunc('week')
    gives on DuckDB and Spark). The one implementation behind fct_growth_accounting
    (month), fct_growth_accounting_daily, fct_growth_accounting_weekly and the three
    grains of fct_cohort_retention, so every grain follows the same rules.

    Both macros take relations, never ref(): person_days (person_id, activity_date;
    already limited to the counted population by the caller) and as_of (as_of_date).
    Activity after as_of_date is ignored. A person is active in a period with >= 1
    active day in it. Periods run from the first active period up to the period of
    as_of_date, at most lw_period_spine_size(grain) of them (20 years). A dateadd
    interval that is an expression is parenthesised: dbt-spark multiplies it by 7 for
    weeks unparenthesised (n - 1 * 7).
-#}

{#- Periods of 20 years at the grain: the longest history the marts cover. -#}
{% macro lw_period_spine_size(grain) -%}
    {%- set sizes = {'day': 7305, 'week': 1044, 'month': 240} -%}
    {%- if grain not in sizes -%}
        {{ exceptions.raise_compiler_error(
            "period grain '" ~ grain ~ "' is not one of day, week, month") }}
    {%- endif -%}
    {{- return(sizes[grain]) -}}
{%- endmacro %}


{#- One row per period from the first active period up to the period of as_of_date:
    active persons split into new / retained / resurrected, active_previous split into
    retained / churned (the columns of fct_growth_accounting). -#}
{% macro lw_growth_accounting(person_days, as_of, grain) -%}
with

ga_as_of_period as (
    select
        as_of_date,
        cast({{ dbt.date_trunc(grain, 'as_of_date') }} as date) as as_of_period_start
    from {{ as_of }}
),

ga_active_periods as (
    select distinct
        ga_person_days.person_id,
        cast({{ dbt.date_trunc(grain, 'ga_person_days.activity_date') }} as date) as period_start
    from {{ person_days }} as ga_person_days
    cross join ga_as_of_period
    where ga_person_days.activity_date <= ga_as_of_period.as_of_date
),

ga_sequenced as (
    select
        person_id,
        period_start,
        cast({{ dbt.dateadd(grain, -1, 'period_start') }} as date) as previous_period_start,
        cast({{ dbt.dateadd(grain, 1, 'period_start') }} as date) as next_period_start,
        lag(period_start) over (partition by person_id order by period_start) as previous_active_period_start,
        lead(period_start) over (partition by person_id order by period_start) as next_active_period_start
    from ga_active_periods
),

-- what each active person-period is, and whether the person is gone the period after
ga_classified as (
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
    from ga_sequenced
),

ga_active_counts as (
    select
        period_start,
        count(*) as active_persons,
        count(case when activity_status = 'new' then 1 end) as new_persons,
        count(case when activity_status = 'retained' then 1 end) as retained_persons,
        count(case when activity_status = 'resurrected' then 1 end) as resurrected_persons
    from ga_classified
    group by period_start
),

-- persons active in a period count as active_previous / churned in the period after
ga_following_counts as (
    select
        next_period_start as period_start,
        count(*) as active_previous_persons,
        count(case when churns_next_period then 1 end) as churned_persons
    from ga_classified
    group by next_period_start
),

ga_first_period as (
    select min(period_start) as first_period_start
    from ga_active_periods
),

ga_period_numbers as (
    {{ dbt.generate_series(lw_period_spine_size(grain)) }}
),

ga_periods as (
    select
        cast(
            {{ dbt.dateadd(grain, '(ga_period_numbers.generated_number - 1)', 'ga_first_period.first_period_start') }}
            as date
        ) as period_start
    from ga_first_period
    cross join ga_period_numbers
),

ga_periods_until_as_of as (
    select
        ga_periods.period_start,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd(grain, 1, 'ga_periods.period_start')) }}
            as date
        ) as period_last_date,
        ga_as_of_period.as_of_date
    from ga_periods
    cross join ga_as_of_period
    where ga_periods.period_start <= ga_as_of_period.as_of_period_start
)

select
    ga_periods_until_as_of.period_start,
    least(ga_periods_until_as_of.period_last_date, ga_periods_until_as_of.as_of_date) as period_end,
    ga_periods_until_as_of.as_of_date,
    ga_periods_until_as_of.period_last_date <= ga_periods_until_as_of.as_of_date as is_complete_period,
    cast(coalesce(ga_active_counts.active_persons, 0) as {{ dbt.type_bigint() }}) as active_persons,
    cast(coalesce(ga_active_counts.new_persons, 0) as {{ dbt.type_bigint() }}) as new_persons,
    cast(coalesce(ga_active_counts.retained_persons, 0) as {{ dbt.type_bigint() }}) as retained_persons,
    cast(coalesce(ga_active_counts.resurrected_persons, 0) as {{ dbt.type_bigint() }}) as resurrected_persons,
    cast(coalesce(ga_following_counts.churned_persons, 0) as {{ dbt.type_bigint() }}) as churned_persons,
    cast(coalesce(ga_following_counts.active_previous_persons, 0) as {{ dbt.type_bigint() }})
        as active_previous_persons,
    -- growth quick ratio: persons gained per person lost; null without churn
    cast(coalesce(ga_active_counts.new_persons, 0) + coalesce(ga_active_counts.resurrected_persons, 0) as double)
    / nullif(ga_following_counts.churned_persons, 0) as quick_ratio,
    cast(coalesce(ga_active_counts.retained_persons, 0) as double)
    / nullif(ga_following_counts.active_previous_persons, 0) as retention_rate
from ga_periods_until_as_of
left join ga_active_counts
    on ga_periods_until_as_of.period_start = ga_active_counts.period_start
left join ga_following_counts
    on ga_periods_until_as_of.period_start = ga_following_counts.period_start
{%- endmacro %}


{#- One row per cohort (persons whose first active period is cohort_period_start) and
    periods_since 0 .. max_periods_since (none: up to the period of as_of_date): the
    cohort's size and how many of its persons are active in the period periods_since
    periods after the cohort's (exact-period retention, not "this period or later").
    Cohorts without persons have no rows; a period with none retained has a row with 0. -#}
{% macro lw_cohort_retention(person_days, as_of, grain, max_periods_since=none) -%}
with

cr_as_of_period as (
    select
        as_of_date,
        cast({{ dbt.date_trunc(grain, 'as_of_date') }} as date) as as_of_period_start
    from {{ as_of }}
),

cr_active_periods as (
    select distinct
        cr_person_days.person_id,
        cast({{ dbt.date_trunc(grain, 'cr_person_days.activity_date') }} as date) as period_start
    from {{ person_days }} as cr_person_days
    cross join cr_as_of_period
    where cr_person_days.activity_date <= cr_as_of_period.as_of_date
),

cr_first_period as (
    select min(period_start) as first_period_start
    from cr_active_periods
),

cr_period_numbers as (
    {{ dbt.generate_series(lw_period_spine_size(grain)) }}
),

-- the periods numbered 0, 1, ... from the first active period: periods_since is a
-- difference of numbers on every engine and grain
cr_periods as (
    select
        cr_period_numbers.generated_number - 1 as period_number,
        cast(
            {{ dbt.dateadd(grain, '(cr_period_numbers.generated_number - 1)', 'cr_first_period.first_period_start') }}
            as date
        ) as period_start
    from cr_first_period
    cross join cr_period_numbers
),

cr_periods_until_as_of as (
    select
        cr_periods.period_number,
        cr_periods.period_start,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd(grain, 1, 'cr_periods.period_start')) }}
            as date
        ) as period_last_date,
        cr_as_of_period.as_of_date
    from cr_periods
    cross join cr_as_of_period
    where cr_periods.period_start <= cr_as_of_period.as_of_period_start
),

cr_person_periods as (
    select
        cr_active_periods.person_id,
        cr_periods_until_as_of.period_number,
        min(cr_periods_until_as_of.period_number) over (
            partition by cr_active_periods.person_id
        ) as cohort_period_number
    from cr_active_periods
    inner join cr_periods_until_as_of
        on cr_active_periods.period_start = cr_periods_until_as_of.period_start
),

cr_cohort_sizes as (
    select
        cohort_period_number,
        count(*) as cohort_persons
    from cr_person_periods
    where period_number = cohort_period_number
    group by cohort_period_number
),

cr_retained as (
    select
        cohort_period_number,
        period_number,
        count(*) as retained_persons
    from cr_person_periods
    group by cohort_period_number, period_number
),

-- every cohort × every period from the cohort's up to the bound: 0 retained is a row
cr_grid as (
    select
        cohorts.period_start as cohort_period_start,
        cr_cohort_sizes.cohort_period_number,
        cr_cohort_sizes.cohort_persons,
        measured.period_number,
        measured.period_number - cr_cohort_sizes.cohort_period_number as periods_since,
        measured.period_start,
        measured.period_last_date,
        measured.as_of_date
    from cr_cohort_sizes
    inner join cr_periods_until_as_of as cohorts
        on cr_cohort_sizes.cohort_period_number = cohorts.period_number
    inner join cr_periods_until_as_of as measured
        on
            measured.period_number >= cr_cohort_sizes.cohort_period_number
            {%- if max_periods_since is not none %}
            and measured.period_number <= cr_cohort_sizes.cohort_period_number + {{ max_periods_since }}
            {%- endif %}
)

select
    cast('{{ grain }}' as {{ dbt.type_string() }}) as period_grain,
    cr_grid.cohort_period_start,
    cast(cr_grid.periods_since as {{ dbt.type_bigint() }}) as periods_since,
    cr_grid.period_start,
    least(cr_grid.period_last_date, cr_grid.as_of_date) as period_end,
    cr_grid.as_of_date,
    cr_grid.period_last_date <= cr_grid.as_of_date as is_complete_period,
    cast(cr_grid.cohort_persons as {{ dbt.type_bigint() }}) as cohort_persons,
    cast(coalesce(cr_retained.retained_persons, 0) as {{ dbt.type_bigint() }}) as retained_persons,
    cast(coalesce(cr_retained.retained_persons, 0) as double) / cr_grid.cohort_persons as retention_rate
from cr_grid
left join cr_retained
    on
        cr_grid.cohort_period_number = cr_retained.cohort_period_number
        and cr_grid.period_number = cr_retained.period_number
{%- endmacro %}
