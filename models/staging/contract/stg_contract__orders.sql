-- The orders contract: one row per order of any source of this build (online orders of
-- any status, store till receipts, transaction-file orders), in the base currency,
-- keyed to the typed identifier that resolves its person. Revenue rules in one place:
--   gross_revenue  order value of orders that count (cancelled orders count 0)
--   refund_amount  refunds (online), returned goods (store, transaction files), positive
--   is_order       counts as an order: not cancelled, not a return-only receipt
{%- set parts = [] %}
with

{% if lw_source_enabled('online_orders') -%}
{%- do parts.append('online') %}
online_orders as (
    select * from {{ ref('stg_online_orders__orders') }}
),

online as (
    select
        'online:' || order_id as order_key,
        'online' as order_source,
        order_id,
        coalesce({{ lw_typed_identifier('user', 'user_id') }}, {{ lw_typed_identifier('email', 'email_hash') }})
            as identifier,
        ordered_at,
        order_status,
        order_status <> 'cancelled' as is_order,
        case
            when order_status = 'cancelled' then cast(0 as decimal(18, 2))
            else order_total
        end as gross_revenue,
        case
            when order_status = 'cancelled' then cast(0 as decimal(18, 2))
            when refund_amount > order_total then order_total
            else refund_amount
        end as refund_amount
    from online_orders
),

{% endif -%}
{% if lw_source_enabled('store_pos') -%}
{%- do parts.append('store') %}
store_lines as (
    select * from {{ ref('stg_store_pos__transaction_lines') }}
),

store_receipts as (
    select
        transaction_id,
        cast(sum(case when not is_return then line_amount else 0 end) as decimal(18, 2)) as gross_revenue,
        cast(-sum(case when is_return then line_amount else 0 end) as decimal(18, 2)) as refund_amount,
        min(event_at) as ordered_at,
        min(coalesce(
            {{ lw_typed_identifier('loyalty_card', 'loyalty_card') }},
            {{ lw_typed_identifier('phone', 'phone_hash') }}
        )) as identifier
    from store_lines
    group by transaction_id
),

-- A receipt with neither loyalty card nor a usable phone has no identifier: kept
-- (counted in revenue totals, reaches no person).
store as (
    select
        'store:' || transaction_id as order_key,
        'store' as order_source,
        transaction_id as order_id,
        identifier,
        ordered_at,
        case when gross_revenue > 0 then 'paid' else 'returned' end as order_status,
        gross_revenue > 0 as is_order,
        gross_revenue,
        refund_amount
    from store_receipts
),

{% endif -%}
{% if var('transaction_sources') -%}
{%- do parts.append('transactions') %}
transaction_orders as (
    select * from {{ ref('stg_transactions__orders') }}
),

-- a line without a customer keeps a null identifier (counted in revenue, no person)
transactions as (
    select
        order_key,
        source as order_source,
        order_id,
        identifier,
        ordered_at,
        order_status,
        is_order,
        gross_revenue,
        refund_amount
    from transaction_orders
),

{% endif -%}
-- typed placeholder: a build without an order source has no orders
no_orders as (
    select
        cast(null as {{ dbt.type_string() }}) as order_key,
        cast(null as {{ dbt.type_string() }}) as order_source,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_string() }}) as identifier,
        cast(null as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(null as {{ dbt.type_string() }}) as order_status,
        cast(null as boolean) as is_order,
        cast(null as decimal(18, 2)) as gross_revenue,
        cast(null as decimal(18, 2)) as refund_amount
    where 1 = 0
),

unioned as (
    select * from no_orders
    {%- for part in parts %}
    union all
    select * from {{ part }}
    {%- endfor %}
),

final as (
    select
        order_key,
        order_source,
        order_id,
        identifier,
        ordered_at,
        cast(ordered_at as date) as order_date,
        order_status,
        is_order,
        gross_revenue,
        refund_amount,
        cast(gross_revenue - refund_amount as decimal(18, 2)) as net_revenue
    from unioned
)

select * from final
