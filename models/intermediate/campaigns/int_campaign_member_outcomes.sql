-- One row per campaign × member (int_campaign_members) with the member's outcomes over
-- the campaign's outcome window (int_campaign_windows: the days starts_on + 1 ..
-- window_end_date, counted up to as_of_date while it is open): whether they had an
-- active day (int_person_days), whether they placed an order (int_orders.is_order),
-- and the net revenue of the window's orders (0 for none). fct_campaign_outcomes
-- compares the treatment with the holdout on these.
-- A view, computed with fct_campaign_outcomes: no table of its own to store or gate.
{{ config(materialized='view') }}
with

windows as (
    select * from {{ ref('int_campaign_windows') }}
),

members as (
    select * from {{ ref('int_campaign_members') }}
),

person_days as (
    select * from {{ ref('int_person_days') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

member_windows as (
    select
        members.campaign_id,
        members.person_id,
        members.is_holdout,
        windows.starts_on,
        case
            when windows.as_of_date < windows.window_end_date then windows.as_of_date
            else windows.window_end_date
        end as counted_until
    from members
    inner join windows
        on members.campaign_id = windows.campaign_id
),

member_activity as (
    select
        member_windows.campaign_id,
        member_windows.person_id,
        count(*) as active_days
    from member_windows
    inner join person_days
        on
            member_windows.person_id = person_days.person_id
            and member_windows.starts_on < person_days.activity_date
            and member_windows.counted_until >= person_days.activity_date
    group by member_windows.campaign_id, member_windows.person_id
),

member_orders as (
    select
        member_windows.campaign_id,
        member_windows.person_id,
        sum(case when orders.is_order then 1 else 0 end) as order_count,
        sum(orders.net_revenue) as net_revenue
    from member_windows
    inner join orders
        on
            member_windows.person_id = orders.person_id
            and member_windows.starts_on < orders.order_date
            and member_windows.counted_until >= orders.order_date
    group by member_windows.campaign_id, member_windows.person_id
),

final as (
    select
        member_windows.campaign_id,
        member_windows.person_id,
        member_windows.is_holdout,
        cast(coalesce(member_orders.net_revenue, 0) as double) as net_revenue,
        -- doubles on every engine: a 1.0 literal is a decimal on Spark, whose avg keeps
        -- 5 decimals (0.98383 where DuckDB gives 0.983827)
        cast(case when coalesce(member_activity.active_days, 0) > 0 then 1 else 0 end as double)
            as is_reactivated,
        cast(case when coalesce(member_orders.order_count, 0) > 0 then 1 else 0 end as double)
            as is_repurchaser
    from member_windows
    left join member_activity
        on
            member_windows.campaign_id = member_activity.campaign_id
            and member_windows.person_id = member_activity.person_id
    left join member_orders
        on
            member_windows.campaign_id = member_orders.campaign_id
            and member_windows.person_id = member_orders.person_id
)

select * from final
