-- One row per lifecycle snapshot date: every month end from the first month with a
-- user-initiated event up to as_of_date, plus as_of_date itself. previous_snapshot_date
-- bounds the period (previous_snapshot_date, snapshot_date] each event falls into,
-- which lets metrics accumulate period by period instead of rescanning history.
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
    -- up to 240 months (20 years) of monthly history
    {{ dbt.generate_series(240) }}
),

month_ends as (
    select
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd(
                'month', 'month_offsets.generated_number', 'first_month.first_month_start'
            )) }}
            as date
        ) as snapshot_date
    from first_month
    cross join month_offsets
),

snapshots as (
    select month_ends.snapshot_date
    from month_ends
    cross join as_of
    where month_ends.snapshot_date < as_of.as_of_date
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
