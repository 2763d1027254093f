-- One row per person and snapshot date with the lifecycle stage, the reason, the
-- AARRR funnel stage and the activity / value / tenure tiers, classified by
-- lw_lifecycle_stage (one rule set for history and today) from
-- int_person_snapshot_metrics.
-- Import CTEs are named after their models, so none shadows a CTE of the macro.
with

int_person_snapshot_metrics as (
    select * from {{ ref('int_person_snapshot_metrics') }}
),

int_lifecycle_thresholds as (
    select * from {{ ref('int_lifecycle_thresholds') }}
),

int_person_contactability as (
    select * from {{ ref('int_person_contactability') }}
),

int_person_referrals as (
    select * from {{ ref('int_person_referrals') }}
),

classified as (
    {{ lw_lifecycle_stage(
        metrics_relation='int_person_snapshot_metrics',
        thresholds='int_lifecycle_thresholds',
        contactability='int_person_contactability',
        referrals='int_person_referrals'
    ) }}
),

final as (
    select
        person_id,
        snapshot_date,
        lifecycle_stage,
        stage_reason,
        funnel_stage,
        activity_tier,
        value_tier,
        tenure_stage,
        first_seen_date,
        first_active_date,
        last_active_date,
        days_since_last_active,
        active_days_total,
        active_days_7d,
        active_days_30d,
        active_days_90d,
        active_days_prev_30d,
        active_days_30d_change_pct,
        is_declining,
        sessions_total,
        sessions_30d,
        last_returned_date,
        order_count,
        gross_revenue,
        net_revenue,
        net_revenue_percent_rank,
        first_order_date,
        last_order_date,
        days_since_last_order,
        referrals,
        is_opted_out,
        dormant_days,
        churned_days,
        lag(lifecycle_stage) over (partition by person_id order by snapshot_date) as previous_snapshot_stage
    from classified
)

select * from final
