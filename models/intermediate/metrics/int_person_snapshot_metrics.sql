-- One row per person and snapshot date (month ends and as_of_date, see
-- int_lifecycle_snapshot_dates) from the person's first-seen date on: activity and
-- value metrics at that date, from the same macros as the as_of models. Input of the
-- lifecycle history.
with

activity as (
    {{ lw_activity_metrics(ref('int_lifecycle_snapshot_dates')) }}
),

value_metrics as (
    {{ lw_value_metrics(ref('int_lifecycle_snapshot_dates')) }}
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
