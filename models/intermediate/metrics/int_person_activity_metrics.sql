-- One row per person first seen on or before as_of_date: active days in the last
-- 7 / 30 / 90 days, first / last active date, days since last active, sessions,
-- the last 30 vs previous 30 days and is_declining. Same macro as every monthly
-- snapshot of int_person_snapshot_metrics.
-- Import CTEs are named after their models, so none shadows a CTE of the macro.
with

int_lifecycle_snapshot_dates as (
    select * from {{ ref('int_lifecycle_snapshot_dates') }}
),

int_persons as (
    select * from {{ ref('int_persons') }}
),

int_person_days as (
    select * from {{ ref('int_person_days') }}
),

int_lifecycle_thresholds as (
    select * from {{ ref('int_lifecycle_thresholds') }}
),

-- as_of_date alone, its period all of history
as_of_snapshot as (
    select
        snapshot_date,
        cast('1900-01-01' as date) as previous_snapshot_date
    from int_lifecycle_snapshot_dates
    where is_as_of_date
),

activity_metrics as (
    {{ lw_activity_metrics(
        snapshots='as_of_snapshot',
        persons='int_persons',
        person_days='int_person_days',
        thresholds='int_lifecycle_thresholds'
    ) }}
)

select * from activity_metrics
