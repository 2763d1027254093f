-- One row per person and UTC day with at least one order that counts (is_order):
-- the "purchase period" of lifetimes with freq='D'. day_net_revenue sums the net
-- revenue of that day's orders; days_since_previous_purchase_day feeds the
-- repurchase cycle.
with

orders as (
    select * from {{ ref('int_orders') }}
    where is_order and person_id is not null
),

per_day as (
    select
        person_id,
        order_date as purchase_date,
        cast(sum(net_revenue) as decimal(18, 2)) as day_net_revenue,
        count(*) as orders
    from orders
    group by person_id, order_date
),

final as (
    select
        person_id,
        purchase_date,
        orders,
        day_net_revenue,
        {{ lw_days_between(
            "lag(purchase_date) over (partition by person_id order by purchase_date)",
            'purchase_date'
        ) }} as days_since_previous_purchase_day
    from per_day
)

select * from final
