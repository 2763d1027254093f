-- One row per lifecycle snapshot date: every month end from the first month with a
-- user-initiated event up to as_of_date (the newest 240 when there are more), plus
-- as_of_date itself. previous_snapshot_date bounds the period (previous_snapshot_date,
-- snapshot_date] each event falls into, which lets metrics accumulate period by period
-- instead of rescanning history.
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

person_days as (
    select * from {{ ref('int_person_days') }}
),

first_month as (
    select
        {{ dbt.date_trunc('month', 'min(person_days.activity_date)') }} as first_month_start
    from person_days
),

month_offsets as (
    -- up to 240 months (20 years) of monthly history, counted back from as_of_date:
    -- older activity falls into the first snapshot's period, the newest months stay
    {{ dbt.generate_series(240) }}
),

month_ends as (
    select
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd(
                'month', '(1 - month_offsets.generated_number)', dbt.date_trunc('month', 'as_of.as_of_date')
            )) }}
            as date
        ) as snapshot_date
    from as_of
    cross join month_offsets
),

snapshots as (
    select month_ends.snapshot_date
    from month_ends
    cross join first_month
    where month_ends.snapshot_date >= first_month.first_month_start
    union all
    select as_of_date as snapshot_date
    from as_of
),

final as (
    select
        snapshot_date,
        coalesce(
            lag(snapshot_date) over (order by snapshot_date),
            cast('1900-01-01' as date)
        ) as previous_snapshot_date,
        snapshot_date = max(snapshot_date) over () as is_as_of_date
    from snapshots
)

select * from final
