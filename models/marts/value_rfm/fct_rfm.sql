-- One row per buyer on as_of_date: a person with at least one order that counts within
-- the RFM window (var rfm_window_days days up to and including as_of_date; null = all
-- history). recency_days / order_count / net_revenue are computed from int_orders for
-- the window, scored 1-5 by lw_rfm_score among all buyers (5 = best; equal values,
-- equal scores) and mapped to a segment by (r_score, f_score) with seeds/rfm_segments.
-- net_revenue counts every order row of the window, refunds and returns included.
with

orders as (
    select * from {{ ref('int_orders') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

persons as (
    select * from {{ ref('int_persons') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

orders_in_window as (
    select
        orders.person_id,
        orders.order_date,
        orders.is_order,
        orders.net_revenue,
        as_of.as_of_date
    from orders
    cross join as_of
    where
        orders.person_id is not null
        -- the last rfm_window_days days, as_of_date included (null: all history)
        and orders.order_date <= as_of.as_of_date{% if var('rfm_window_days') is not none %}
            and orders.order_date > {{ dbt.dateadd('day', -(var('rfm_window_days') | int), 'as_of.as_of_date') }}
    {% endif %}
),

buyers as (
    select
        orders_in_window.person_id,
        orders_in_window.as_of_date,
        max(case when orders_in_window.is_order then orders_in_window.order_date end) as last_order_date,
        count(case when orders_in_window.is_order then 1 end) as order_count,
        sum(orders_in_window.net_revenue) as net_revenue
    from orders_in_window
    inner join persons
        on orders_in_window.person_id = persons.person_id
    -- persons made only of excluded identifiers (kiosk ids, test accounts) stay out of
    -- the marts, so they never shift anybody's score
    where not persons.is_only_excluded_identifiers
    group by orders_in_window.person_id, orders_in_window.as_of_date
    having count(case when orders_in_window.is_order then 1 end) >= 1
),

measured as (
    select
        person_id,
        as_of_date,
        {{ lw_days_between('last_order_date', 'as_of_date') }} as recency_days,
        cast(order_count as {{ dbt.type_bigint() }}) as order_count,
        cast(net_revenue as decimal(18, 2)) as net_revenue
    from buyers
),

scored as (
    select
        person_id,
        as_of_date,
        recency_days,
        order_count,
        net_revenue,
        -- recency descending: the longest-lapsed buyers come first and score 1
        {{ lw_rfm_score('recency_days desc') }} as r_score,
        {{ lw_rfm_score('order_count') }} as f_score,
        {{ lw_rfm_score('net_revenue') }} as m_score
    from measured
),

final as (
    select
        scored.person_id,
        scored.as_of_date,
        scored.recency_days,
        scored.order_count,
        scored.net_revenue,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        cast(scored.r_score as {{ dbt.type_string() }})
        || cast(scored.f_score as {{ dbt.type_string() }})
        || cast(scored.m_score as {{ dbt.type_string() }}) as rfm_cell,
        -- left join: a cell missing from the seed shows as a null segment (tested)
        segments.segment
    from scored
    left join segments
        on
            scored.r_score = segments.r_score
            and scored.f_score = segments.f_score
)

select * from final
