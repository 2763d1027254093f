-- One row per order of any source (the orders contract: online orders of any status,
-- store till receipts, transaction-file orders) with the person who placed it. The
-- revenue rules live in the contract (stg_contract__orders); an order whose
-- identifier resolves to no person keeps a null person_id (counted in revenue
-- totals, not in person metrics).
with

orders as (
    select * from {{ ref('stg_contract__orders') }}
),

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

final as (
    select
        orders.order_key,
        person_map.person_id,
        orders.order_source,
        orders.order_id,
        orders.ordered_at,
        orders.order_date,
        orders.order_status,
        orders.is_order,
        orders.gross_revenue,
        orders.refund_amount,
        orders.net_revenue
    from orders
    left join person_map
        on orders.identifier = person_map.identifier
)

select * from final
