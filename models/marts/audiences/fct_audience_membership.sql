-- One row per audience × member on as_of_date: what a marketing tool is sent. An
-- audience is a lifecycle stage (fct_customer_lifecycle), an RFM segment (fct_rfm) or
-- a trigger (fct_customer_triggers), named audience_id = '<audience_type>:<name>'.
-- entered_on is the day the current membership began: stage_entered_date for a
-- stage, episode_started_on for a trigger, null for an RFM segment (scored as of
-- the build only; fct_audience_changes dates its entry by the build's as_of_date).
-- A campaign of seeds/campaigns.csv targets an audience while it runs (starts_on to
-- starts_on + outcome_window_days); its holdout (lw_holdout_unit of the campaign's
-- salt and the person's external id, else person_id, below holdout_share) is the
-- control group: is_holdout members are never exported (lw export). When two
-- running campaigns target one audience, the one with the smallest campaign_id
-- holds out. Persons made only of excluded identifiers are in no audience
-- (int_audience_persons: the persons an audience may hold, with holdout key and reachability).
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

persons as (
    select * from {{ ref('int_audience_persons') }}
),

lifecycle as (
    select * from {{ ref('fct_customer_lifecycle') }}
),

rfm as (
    select * from {{ ref('fct_rfm') }}
),

triggers as (
    select * from {{ ref('fct_customer_triggers') }}
),

campaigns as (
    select * from {{ ref('campaigns') }}
),

memberships_by_type as (
    select
        'lifecycle_stage' as audience_type,
        lifecycle_stage as audience_name,
        person_id,
        stage_entered_date as entered_on
    from lifecycle
    union all
    select
        'rfm_segment' as audience_type,
        segment as audience_name,
        person_id,
        cast(null as date) as entered_on
    from rfm
    union all
    select
        'trigger' as audience_type,
        trigger_name as audience_name,
        person_id,
        episode_started_on as entered_on
    from triggers
),

memberships as (
    select
        audience_type,
        audience_name,
        person_id,
        entered_on,
        audience_type || ':' || audience_name as audience_id
    from memberships_by_type
),

running_campaigns as (
    select
        campaigns.campaign_id,
        campaigns.audience_id,
        campaigns.holdout_share,
        campaigns.holdout_salt,
        row_number() over (
            partition by campaigns.audience_id
            order by campaigns.campaign_id
        ) as campaign_rank
    from campaigns
    cross join as_of
    where
        campaigns.starts_on <= as_of.as_of_date
        and as_of.as_of_date <= {{ dbt.dateadd('day', 'campaigns.outcome_window_days', 'campaigns.starts_on') }}
),

final as (
    select
        memberships.audience_id,
        memberships.audience_type,
        memberships.audience_name,
        memberships.person_id,
        as_of.as_of_date,
        memberships.entered_on,
        running_campaigns.campaign_id,
        coalesce(
            {{ lw_holdout_unit('running_campaigns.holdout_salt', 'persons.holdout_key') }}
            < running_campaigns.holdout_share,
            false
        ) as is_holdout,
        persons.is_reachable_email,
        persons.is_reachable_sms,
        persons.is_reachable_push,
        persons.is_reachable_whatsapp
    from memberships
    inner join persons
        on memberships.person_id = persons.person_id
    cross join as_of
    left join running_campaigns
        on
            memberships.audience_id = running_campaigns.audience_id
            and running_campaigns.campaign_rank = 1
)

select * from final
