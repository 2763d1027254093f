-- One row: the day thresholds the lifecycle rules use, calibrated from the data as
-- of as_of_date (seed 004: "the repurchase cycle moved from 30 to 25 days"), with the
-- observed value, the bounds and why the used value was chosen:
--   dormant_days            percentile of gaps between a person's active days
--   churned_days            percentile of gaps between purchase days, at least
--                           dormant_days + 1 so dormant always precedes churned
--   repurchase_cycle_days   median gap between purchase days (trigger timing)
-- Each is overridable with var('<name>_days_override').
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

person_days as (
    select * from {{ ref('int_person_days') }}
),

purchase_days as (
    select * from {{ ref('int_person_purchase_days') }}
),

activity_gaps as (
    select
        {{ lw_percentile('person_days.days_since_previous_active_day', var('dormant_gap_percentile')) }}
            as dormant_observed,
        count(person_days.days_since_previous_active_day) as activity_gaps
    from person_days
    cross join as_of
    where person_days.activity_date <= as_of.as_of_date
),

purchase_gaps as (
    select
        {{ lw_percentile('purchase_days.days_since_previous_purchase_day', var('churned_gap_percentile')) }}
            as churned_observed,
        {{ lw_percentile('purchase_days.days_since_previous_purchase_day', var('repurchase_cycle_percentile')) }}
            as repurchase_observed,
        count(purchase_days.days_since_previous_purchase_day) as purchase_gaps
    from purchase_days
    cross join as_of
    where purchase_days.purchase_date <= as_of.as_of_date
),

calibrated as (
    select
        {{ lw_calibrated_threshold('dormant', 'activity_gaps.dormant_observed', 'activity_gaps.activity_gaps',
            var('dormant_gap_percentile'), var('dormant_days_bounds'), var('dormant_days_override')) }},
        {{ lw_calibrated_threshold('churned', 'purchase_gaps.churned_observed', 'purchase_gaps.purchase_gaps',
            var('churned_gap_percentile'), var('churned_days_bounds'), var('churned_days_override')) }},
        {{ lw_calibrated_threshold(
            'repurchase_cycle', 'purchase_gaps.repurchase_observed', 'purchase_gaps.purchase_gaps',
            var('repurchase_cycle_percentile'), var('repurchase_cycle_days_bounds'),
            var('repurchase_cycle_days_override')) }}
    from activity_gaps
    cross join purchase_gaps
),

final as (
    select
        as_of.as_of_date,
        calibrated.dormant_days,
        calibrated.dormant_observed_days,
        calibrated.dormant_observed_gaps,
        calibrated.dormant_source,
        calibrated.dormant_reason,
        calibrated.churned_observed_days,
        calibrated.churned_observed_gaps,
        calibrated.churned_reason,
        calibrated.repurchase_cycle_days,
        calibrated.repurchase_cycle_observed_days,
        calibrated.repurchase_cycle_observed_gaps,
        calibrated.repurchase_cycle_source,
        calibrated.repurchase_cycle_reason,
        case
            when calibrated.churned_days <= calibrated.dormant_days then calibrated.dormant_days + 1
            else calibrated.churned_days
        end as churned_days,
        case
            when calibrated.churned_days <= calibrated.dormant_days then 'raised_above_dormant'
            else calibrated.churned_source
        end as churned_source
    from calibrated
    cross join as_of
)

select * from final
