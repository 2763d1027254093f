-- One row per campaign of seeds/campaigns.csv × member of its audience on starts_on,
-- with the member's control-group assignment. Only campaigns that have started
-- (starts_on <= as_of_date) and target a lifecycle stage (audience_id
-- 'lifecycle_stage:<stage>') have members: the stage history is what the warehouse
-- keeps day by day (int_lifecycle_stages); RFM segments and triggers exist as of the
-- build only, so a campaign on them has no members here (and no outcome). The stage
-- is read at the newest lifecycle snapshot on or before starts_on
-- (audience_snapshot_date): starts_on itself when it is a month end (the demo) or
-- as_of_date. Holdout: lw_holdout_unit(holdout_salt, coalesce(external_id,
-- person_id)) < holdout_share, the rule of fct_audience_membership, so the control
-- group is the one the marketing tool was never sent. Persons made only of excluded
-- identifiers are never members.
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

campaigns as (
    select * from {{ ref('campaigns') }}
),

snapshot_dates as (
    select * from {{ ref('int_lifecycle_snapshot_dates') }}
),

stages as (
    select * from {{ ref('int_lifecycle_stages') }}
),

persons as (
    select * from {{ ref('int_persons') }}
    where not is_only_excluded_identifiers
),

external_ids as (
    select * from {{ ref('int_person_external_ids') }}
),

started_campaigns as (
    select
        campaigns.campaign_id,
        campaigns.audience_id,
        campaigns.starts_on,
        campaigns.outcome_window_days,
        campaigns.holdout_share,
        campaigns.holdout_salt,
        substr(campaigns.audience_id, {{ dbt.length("'lifecycle_stage:'") }} + 1) as lifecycle_stage,
        cast({{ dbt.dateadd('day', 'campaigns.outcome_window_days', 'campaigns.starts_on') }} as date)
            as window_end_date
    from campaigns
    cross join as_of
    where
        campaigns.starts_on <= as_of.as_of_date
        and campaigns.audience_id like 'lifecycle_stage:%'
),

audience_snapshots as (
    select
        started_campaigns.campaign_id,
        max(snapshot_dates.snapshot_date) as audience_snapshot_date
    from started_campaigns
    inner join snapshot_dates
        on started_campaigns.starts_on >= snapshot_dates.snapshot_date
    group by started_campaigns.campaign_id
),

members as (
    select
        started_campaigns.campaign_id,
        started_campaigns.audience_id,
        started_campaigns.starts_on,
        audience_snapshots.audience_snapshot_date,
        started_campaigns.window_end_date,
        stages.person_id,
        external_ids.external_id_type,
        {{ lw_holdout_unit('started_campaigns.holdout_salt',
                           'coalesce(external_ids.external_id, stages.person_id)') }} as holdout_unit,
        started_campaigns.holdout_share
    from started_campaigns
    inner join audience_snapshots
        on started_campaigns.campaign_id = audience_snapshots.campaign_id
    inner join stages
        on
            audience_snapshots.audience_snapshot_date = stages.snapshot_date
            and started_campaigns.lifecycle_stage = stages.lifecycle_stage
    inner join persons
        on stages.person_id = persons.person_id
    left join external_ids
        on stages.person_id = external_ids.person_id
),

final as (
    select
        campaign_id,
        audience_id,
        starts_on,
        audience_snapshot_date,
        window_end_date,
        person_id,
        external_id_type,
        holdout_unit,
        holdout_unit < holdout_share as is_holdout
    from members
)

select * from final
