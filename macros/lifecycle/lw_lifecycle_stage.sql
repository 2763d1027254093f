{#-
    Lifecycle classification of person × snapshot metrics rows — the one rule set,
    called by int_lifecycle_stages, which fct_lifecycle_history (every snapshot) and
    fct_customer_lifecycle (the as_of_date snapshot) both read. Takes relations (or CTE
    names), never ref(): `metrics_relation` has the columns of int_person_snapshot_metrics;
    thresholds: int_lifecycle_thresholds; contactability: int_person_contactability;
    referrals: int_person_referrals.

    Stage precedence (first match wins; see DECISIONLOG): the rows of the seed
    lifecycle_stages (seeds/lifecycle_stages.csv: stage, precedence, the rule in words),
    which the `lifecycle_stage` case in `staged` below checks in the same order
    (pytests/test_lifecycle_stages_seed.py fails when they differ).
-#}
{% macro lw_lifecycle_stage(metrics_relation, thresholds, contactability, referrals) -%}
with

metrics as (
    select * from {{ metrics_relation }} as metrics_input
),

thresholds as (
    select * from {{ thresholds }} as thresholds_input
),

contactability as (
    select * from {{ contactability }} as contactability_input
),

referrals as (
    select * from {{ referrals }} as referrals_input
),

referral_counts as (
    select
        metrics.person_id,
        metrics.snapshot_date,
        count(*) as referrals
    from metrics
    inner join referrals
        on
            metrics.person_id = referrals.referrer_person_id
            and referrals.referral_date <= metrics.snapshot_date
    group by metrics.person_id, metrics.snapshot_date
),

ranked as (
    select
        metrics.*,
        thresholds.dormant_days,
        thresholds.churned_days,
        coalesce(referral_counts.referrals, 0) as referrals,
        coalesce(contactability.opted_out_date <= metrics.snapshot_date, false) as is_opted_out,
        contactability.opt_out_reason,
        case
            when metrics.order_count > 0
                then percent_rank() over (
                    partition by metrics.snapshot_date, metrics.order_count > 0 order by metrics.net_revenue
                )
        end as net_revenue_percent_rank
    from metrics
    cross join thresholds
    left join contactability
        on metrics.person_id = contactability.person_id
    left join referral_counts
        on
            metrics.person_id = referral_counts.person_id
            and metrics.snapshot_date = referral_counts.snapshot_date
),

tiered as (
    select
        ranked.*,
        case
            when ranked.net_revenue_percent_rank >= {{ var('high_value_percent_rank') }} then 'high'
            when ranked.order_count > 0 then 'potential'
            when ranked.active_days_30d >= {{ var('high_activity_min_active_days_30') }} then 'potential'
            else 'low'
        end as value_tier,
        case
            when ranked.active_days_30d >= {{ var('high_activity_min_active_days_30') }} then 'high'
            when ranked.days_since_last_active <= ranked.dormant_days then 'low'
            else 'dormant'
        end as activity_tier,
        case
            when {{ lw_days_between('ranked.first_seen_date', 'ranked.snapshot_date') }}
                < {{ var('tenure_onboarding_days') }} then 'onboarding'
            when {{ lw_days_between('ranked.first_seen_date', 'ranked.snapshot_date') }}
                < {{ var('tenure_exploration_days') }} then 'exploration'
            when {{ lw_days_between('ranked.first_seen_date', 'ranked.snapshot_date') }}
                < {{ var('tenure_growth_days') }} then 'growth'
            else 'maturity'
        end as tenure_stage,
        case
            when ranked.referrals > 0 then 'referral'
            when ranked.order_count >= 2 then 'retention'
            when ranked.order_count = 1 then 'monetization'
            when ranked.first_active_date is not null then 'activation'
            else 'acquisition'
        end as funnel_stage
    from ranked
),

staged as (
    select
        tiered.*,
        case
            when tiered.first_active_date is null then 'prospect'
            when tiered.days_since_last_active > tiered.churned_days then 'churned'
            when tiered.is_opted_out and tiered.active_days_30d = 0 then 'churned'
            when tiered.days_since_last_active > tiered.dormant_days then 'dormant'
            when tiered.last_returned_date > {{ dbt.dateadd('day', -var('reactivation_window_days'), 'tiered.snapshot_date') }}
                then 'reactivated'
            when tiered.first_active_date > {{ dbt.dateadd('day', -var('new_customer_days'), 'tiered.snapshot_date') }}
                then 'new'
            when tiered.is_declining then 'at_risk'
            when tiered.value_tier = 'high' and tiered.order_count >= {{ var('loyal_min_orders') }}
                then 'loyal_high_value'
            else 'active'
        end as lifecycle_stage,
        case
            when tiered.first_active_date is null
                then 'no user-initiated activity since first seen on ' || cast(tiered.first_seen_date as {{ dbt.type_string() }})
            when tiered.days_since_last_active > tiered.churned_days
                then 'inactive for ' || cast(tiered.days_since_last_active as {{ dbt.type_string() }})
                || ' days (> churned threshold of ' || cast(tiered.churned_days as {{ dbt.type_string() }}) || ' days)'
            when tiered.is_opted_out and tiered.active_days_30d = 0
                then tiered.opt_out_reason || ' and no activity in the last 30 days'
            when tiered.days_since_last_active > tiered.dormant_days
                then 'inactive for ' || cast(tiered.days_since_last_active as {{ dbt.type_string() }})
                || ' days (> dormant threshold of ' || cast(tiered.dormant_days as {{ dbt.type_string() }}) || ' days)'
            when tiered.last_returned_date > {{ dbt.dateadd('day', -var('reactivation_window_days'), 'tiered.snapshot_date') }}
                then 'returned on ' || cast(tiered.last_returned_date as {{ dbt.type_string() }})
                || ' after more than ' || cast(tiered.dormant_days as {{ dbt.type_string() }}) || ' inactive days'
            when tiered.first_active_date > {{ dbt.dateadd('day', -var('new_customer_days'), 'tiered.snapshot_date') }}
                then 'first active on ' || cast(tiered.first_active_date as {{ dbt.type_string() }})
                || ' (within {{ var("new_customer_days") }} days)'
            when tiered.is_declining
                then 'active days fell from ' || cast(tiered.active_days_prev_30d as {{ dbt.type_string() }})
                || ' to ' || cast(tiered.active_days_30d as {{ dbt.type_string() }})
                || ' (previous vs last 30 days, > {{ (var("decline_drop_share") * 100) | int }} % drop)'
            when tiered.value_tier = 'high' and tiered.order_count >= {{ var('loyal_min_orders') }}
                then 'top {{ ((1 - var("high_value_percent_rank")) * 100) | round | int }} % net revenue with '
                || cast(tiered.order_count as {{ dbt.type_string() }}) || ' orders'
            else 'active ' || cast(tiered.days_since_last_active as {{ dbt.type_string() }})
                || ' days ago, not declining'
        end as stage_reason
    from tiered
)

select * from staged
{%- endmacro %}
