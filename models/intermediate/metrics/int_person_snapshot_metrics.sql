-- One row per person and snapshot date (month ends and as_of_date, see
-- int_lifecycle_snapshot_dates) from the person's first-seen date on: activity and
-- value metrics at that date, from the same macros as the as_of models. Input of the
-- lifecycle history.
-- Import CTEs are named after their models, so none shadows a CTE of the macros.
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

int_orders as (
    select * from {{ ref('int_orders') }}
),

int_person_purchase_days as (
    select * from {{ ref('int_person_purchase_days') }}
),

activity as (
    {{ lw_activity_metrics(
        snapshots='int_lifecycle_snapshot_dates',
        persons='int_persons',
        person_days='int_person_days',
        thresholds='int_lifecycle_thresholds'
    ) }}
),

value_metrics as (
    {{ lw_value_metrics(
        snapshots='int_lifecycle_snapshot_dates',
        orders='int_orders',
        persons='int_persons',
        purchase_days='int_person_purchase_days'
    ) }}
),

final as (
    select
        activity.*,
        value_metrics.first_order_date,
        value_metrics.last_order_date,
        value_metrics.days_since_last_order,
        coalesce(value_metrics.order_count, 0) as order_count,
        coalesce(value_metrics.gross_revenue, 0) as gross_revenue,
        coalesce(value_metrics.net_revenue, 0) as net_revenue
    from activity
    left join value_metrics
        on
            activity.person_id = value_metrics.person_id
            and activity.snapshot_date = value_metrics.snapshot_date
)

select * from final
