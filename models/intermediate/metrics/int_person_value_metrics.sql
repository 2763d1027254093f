-- One row per person with at least one order row on or before as_of_date: orders,
-- gross / net revenue, AOV, first / last order, mean days between purchases,
-- historical CLV and the lifetimes-compatible frequency / recency / T /
-- monetary_value. Same macro as every monthly snapshot.
-- Import CTEs are named after their models, so none shadows a CTE of the macro.
with

int_lifecycle_snapshot_dates as (
    select * from {{ ref('int_lifecycle_snapshot_dates') }}
),

int_orders as (
    select * from {{ ref('int_orders') }}
),

int_persons as (
    select * from {{ ref('int_persons') }}
),

int_person_purchase_days as (
    select * from {{ ref('int_person_purchase_days') }}
),

-- as_of_date alone, its period all of history
as_of_snapshot as (
    select
        snapshot_date,
        cast('1900-01-01' as date) as previous_snapshot_date
    from int_lifecycle_snapshot_dates
    where is_as_of_date
),

value_metrics as (
    {{ lw_value_metrics(
        snapshots='as_of_snapshot',
        orders='int_orders',
        persons='int_persons',
        purchase_days='int_person_purchase_days'
    ) }}
)

select * from value_metrics
