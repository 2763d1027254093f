-- One row per person and snapshot date with the lifecycle stage, the reason, the
-- AARRR funnel stage and the activity / value / tenure tiers, classified by
-- lw_lifecycle_stage (one rule set for history and today) from
-- int_person_snapshot_metrics.
with

classified as (
    {{ lw_lifecycle_stage(ref('int_person_snapshot_metrics')) }}
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
