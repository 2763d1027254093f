-- One row per person known on as_of_date: the lifecycle stage with its reason, the
-- stage before it and the snapshot at which the current stage was first observed
-- (month-end granularity, see fct_lifecycle_history), the AARRR funnel stage, the
-- activity / value / tenure tiers, the metrics and thresholds behind them and the
-- BG/NBD churn / purchase predictions (not used by the stage rules).
with

stages as (
    select * from {{ ref('int_lifecycle_stages') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

clv_predictions as (
    select * from {{ ref('int_person_clv_predictions') }}
),

stage_changes as (
    select
        person_id,
        snapshot_date as stage_entered_date,
        previous_snapshot_stage as previous_stage,
        row_number() over (partition by person_id order by snapshot_date desc) as recency_rank
    from stages
    where previous_snapshot_stage is null or previous_snapshot_stage <> lifecycle_stage
),

current_stage_start as (
    select
        person_id,
        stage_entered_date,
        previous_stage
    from stage_changes
    where recency_rank = 1
),

final as (
    select
        stages.person_id,
        stages.snapshot_date as as_of_date,
        stages.lifecycle_stage,
        stages.stage_reason,
        current_stage_start.previous_stage,
        current_stage_start.stage_entered_date,
        stages.funnel_stage,
        stages.activity_tier,
        stages.value_tier,
        stages.tenure_stage,
        stages.first_seen_date,
        stages.first_active_date,
        stages.last_active_date,
        stages.days_since_last_active,
        stages.active_days_total,
        stages.active_days_7d,
        stages.active_days_30d,
        stages.active_days_90d,
        stages.active_days_prev_30d,
        stages.active_days_30d_change_pct,
        stages.is_declining,
        stages.sessions_total,
        stages.sessions_30d,
        stages.last_returned_date,
        stages.order_count,
        stages.gross_revenue,
        stages.net_revenue,
        stages.last_order_date,
        stages.referrals,
        stages.is_opted_out,
        stages.dormant_days,
        stages.churned_days,
        -- BG/NBD + Gamma-Gamma (int_person_clv_predictions); null for non-buyers
        cast(clv_predictions.p_alive as double) as p_alive,
        cast(clv_predictions.churn_probability as double) as churn_probability,
        cast(clv_predictions.expected_purchases_90d as double) as expected_purchases_90d,
        cast(clv_predictions.expected_clv_12m as double) as expected_clv_12m
    from stages
    inner join as_of
        on stages.snapshot_date = as_of.as_of_date
    inner join current_stage_start
        on stages.person_id = current_stage_start.person_id
    left join clv_predictions
        on stages.person_id = clv_predictions.person_id
)

select * from final
