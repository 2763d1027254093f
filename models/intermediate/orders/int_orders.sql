-- One row per order or store return, in base currency, with the person who placed
-- it: online orders (any status) and store transactions (a till receipt). Revenue
-- rules in one place:
--   gross_revenue  order value of orders that count (cancelled orders count 0)
--   refund_amount  refunds (online) and returned goods (store), positive
--   net_revenue    gross_revenue - refund_amount (a return-only receipt is negative)
--   is_order       counts as an order: not cancelled, not a return-only receipt
{% if var('dataset') == 'cdnow' %}
with

transactions as (
    select * from {{ ref('stg_cdnow__transactions') }}
),

final as (
    select
        'cdnow:' || transaction_id as order_key,
        {{ lw_cdnow_person_id('customer_id') }} as person_id,
        'cdnow' as order_source,
        transaction_id as order_id,
        cast(transaction_date as timestamp) as ordered_at,
        transaction_date as order_date,
        'paid' as order_status,
        true as is_order,
        amount as gross_revenue,
        cast(0 as decimal(18, 2)) as refund_amount,
        amount as net_revenue
    from transactions
)

select * from final
{% else %}
with

online_orders as (
    select * from {{ ref('stg_online_orders__orders') }}
),

store_lines as (
    select * from {{ ref('stg_store_pos__transaction_lines') }}
),

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

online as (
    select
        'online:' || online_orders.order_id as order_key,
        person_map.person_id,
        'online' as order_source,
        online_orders.order_id,
        online_orders.ordered_at,
        online_orders.order_date,
        online_orders.order_status,
        online_orders.order_status <> 'cancelled' as is_order,
        case
            when online_orders.order_status = 'cancelled' then cast(0 as decimal(18, 2))
            else online_orders.order_total
        end as gross_revenue,
        case
            when online_orders.order_status = 'cancelled' then cast(0 as decimal(18, 2))
            when online_orders.refund_amount > online_orders.order_total then online_orders.order_total
            else online_orders.refund_amount
        end as refund_amount
    from online_orders
    left join person_map
        on coalesce('user:' || online_orders.user_id, 'email:' || online_orders.email_hash) = person_map.identifier
),

store_receipts as (
    select
        transaction_id,
        cast(sum(case when not is_return then line_amount else 0 end) as decimal(18, 2)) as gross_revenue,
        cast(-sum(case when is_return then line_amount else 0 end) as decimal(18, 2)) as refund_amount,
        min(event_at) as ordered_at,
        min(coalesce('loyalty_card:' || loyalty_card, 'phone:' || phone_hash)) as identifier
    from store_lines
    group by transaction_id
),

store as (
    select
        'store:' || store_receipts.transaction_id as order_key,
        person_map.person_id,
        'store' as order_source,
        store_receipts.transaction_id as order_id,
        store_receipts.ordered_at,
        cast(store_receipts.ordered_at as date) as order_date,
        case when store_receipts.gross_revenue > 0 then 'paid' else 'returned' end as order_status,
        store_receipts.gross_revenue > 0 as is_order,
        store_receipts.gross_revenue,
        store_receipts.refund_amount
    from store_receipts
    -- A receipt with neither loyalty card nor a usable phone has no person: kept
    -- with a null person_id (counted in revenue totals, not in person metrics).
    left join person_map
        on store_receipts.identifier = person_map.identifier
),

unioned as (
    select * from online
    union all
    select * from store
),

final as (
    select
        order_key,
        person_id,
        order_source,
        order_id,
        ordered_at,
        order_date,
        order_status,
        is_order,
        gross_revenue,
        refund_amount,
        cast(gross_revenue - refund_amount as decimal(18, 2)) as net_revenue
    from unioned
)

select * from final
{% endif %}
