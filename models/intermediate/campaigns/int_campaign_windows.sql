-- One row per campaign of seeds/campaigns.csv that has started (starts_on <=
-- as_of_date), with its outcome window: the days starts_on + 1 .. window_end_date
-- (= starts_on + outcome_window_days), counted up to as_of_date while it is open.
-- A view, computed with fct_campaign_outcomes: no table of its own to store or gate.
{{ config(materialized='view') }}
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

campaigns as (
    select * from {{ ref('campaigns') }}
),

final as (
    select
        campaigns.campaign_id,
        campaigns.audience_id,
        campaigns.starts_on,
        cast({{ dbt.dateadd('day', 'campaigns.outcome_window_days', 'campaigns.starts_on') }} as date)
            as window_end_date,
        as_of.as_of_date
    from campaigns
    cross join as_of
    where campaigns.starts_on <= as_of.as_of_date
)

select * from final
