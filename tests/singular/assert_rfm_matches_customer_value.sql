-- Over all history (var rfm_window_days null) fct_rfm and fct_customer_value describe
-- the same buyers with the same numbers: RFM computes them from int_orders itself (so
-- that a window can apply), and must agree with the value metrics it does not read.
-- Every row returned is a buyer missing on one side or with different numbers.
{{ config(enabled=var('rfm_window_days') is none) }}

with

rfm as (
    select * from {{ ref('fct_rfm') }}
),

customer_value as (
    select * from {{ ref('fct_customer_value') }}
    where order_count >= 1
),

differences as (
    select
        rfm.recency_days,
        customer_value.days_since_last_order,
        rfm.order_count as rfm_order_count,
        customer_value.order_count as value_order_count,
        rfm.net_revenue as rfm_net_revenue,
        customer_value.net_revenue as value_net_revenue,
        coalesce(rfm.person_id, customer_value.person_id) as person_id
    from rfm
    full outer join customer_value
        on rfm.person_id = customer_value.person_id
    where
        rfm.person_id is null
        or customer_value.person_id is null
        or rfm.recency_days <> customer_value.days_since_last_order
        or rfm.order_count <> customer_value.order_count
        or rfm.net_revenue <> customer_value.net_revenue
)

select * from differences
