-- One row per person and snapshot date (every month end up to as_of_date, and
-- as_of_date itself): the lifecycle stage and tiers the person had then, computed
-- with exactly the rules of fct_customer_lifecycle (both read int_lifecycle_stages),
-- with thresholds calibrated as of as_of_date.
with

stages as (
    select * from {{ ref('int_lifecycle_stages') }}
),

final as (
    select
        person_id,
        snapshot_date,
        lifecycle_stage,
        stage_reason,
        previous_snapshot_stage,
        funnel_stage,
        activity_tier,
        value_tier,
        tenure_stage,
        days_since_last_active,
        active_days_30d,
        active_days_prev_30d,
        is_declining,
        order_count,
        net_revenue
    from stages
)

select * from final
