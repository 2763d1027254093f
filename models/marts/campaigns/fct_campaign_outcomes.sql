-- One row per campaign × outcome metric: the campaign's treatment (members not held
-- out) against its control group (the holdout) over the outcome window, the days
-- starts_on + 1 .. window_end_date (= starts_on + outcome_window_days), counted up to
-- as_of_date while the window is still open (is_window_complete false).
--   reactivation_rate       share of members with >= 1 active day (int_person_days)
--   repurchase_rate         share of members with >= 1 order (int_orders.is_order)
--   net_revenue_per_person  mean net revenue of the window's orders per member (0 for none)
-- difference = treatment_value - control_value with a 95 % interval: for a rate the
-- unpooled two-proportion Wald interval, difference ± 1.96 · sqrt(p_t(1 - p_t)/n_t +
-- p_c(1 - p_c)/n_c); for revenue Welch's interval with the normal critical value,
-- difference ± 1.96 · sqrt(s_t²/n_t + s_c²/n_c) (sample variances). Null when a
-- group is empty (or, for revenue, has one member). Values rounded to 6 decimals.
-- Members and their outcomes: int_campaign_member_outcomes; windows: int_campaign_windows.
{%- set outcome_metrics = [
    ('reactivation_rate', 'is_reactivated', 'two-proportion Wald (unpooled), 95 %'),
    ('repurchase_rate', 'is_repurchaser', 'two-proportion Wald (unpooled), 95 %'),
    ('net_revenue_per_person', 'net_revenue', 'Welch, normal critical value 1.96, 95 %'),
] %}
with

windows as (
    select * from {{ ref('int_campaign_windows') }}
),

member_outcomes as (
    select * from {{ ref('int_campaign_member_outcomes') }}
),

-- one row per campaign × group × metric: persons, mean and sample variance
group_values as (
    {% for metric, column, method in outcome_metrics -%}
    select
        campaign_id,
        is_holdout,
        '{{ metric }}' as outcome_metric,
        count(*) as persons,
        avg({{ column }}) as mean_value,
        var_samp({{ column }}) as variance
    from member_outcomes
    group by campaign_id, is_holdout
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

metrics as (
    {% for metric, column, method in outcome_metrics -%}
    select
        '{{ metric }}' as outcome_metric,
        '{{ method }}' as test_method
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

compared as (
    select
        windows.campaign_id,
        windows.audience_id,
        windows.starts_on,
        windows.window_end_date,
        windows.as_of_date,
        metrics.outcome_metric,
        metrics.test_method,
        treatment.mean_value as treatment_value,
        control.mean_value as control_value,
        windows.as_of_date >= windows.window_end_date as is_window_complete,
        coalesce(treatment.persons, 0) as treatment_persons,
        coalesce(control.persons, 0) as control_persons,
        treatment.mean_value - control.mean_value as difference,
        case
            when metrics.outcome_metric = 'net_revenue_per_person'
                then sqrt(treatment.variance / treatment.persons + control.variance / control.persons)
            else sqrt(
                treatment.mean_value * (1 - treatment.mean_value) / treatment.persons
                + control.mean_value * (1 - control.mean_value) / control.persons
            )
        end as standard_error
    from windows
    cross join metrics
    left join group_values as treatment
        on
            windows.campaign_id = treatment.campaign_id
            and metrics.outcome_metric = treatment.outcome_metric
            and not treatment.is_holdout
    left join group_values as control
        on
            windows.campaign_id = control.campaign_id
            and metrics.outcome_metric = control.outcome_metric
            and control.is_holdout
),

final as (
    select
        campaign_id,
        audience_id,
        outcome_metric,
        starts_on,
        window_end_date,
        as_of_date,
        is_window_complete,
        treatment_persons,
        control_persons,
        cast(round(treatment_value, 6) as double) as treatment_value,
        cast(round(control_value, 6) as double) as control_value,
        cast(round(difference, 6) as double) as difference,
        cast(round(difference - 1.96 * standard_error, 6) as double) as ci_low,
        cast(round(difference + 1.96 * standard_error, 6) as double) as ci_high,
        test_method
    from compared
)

select * from final
