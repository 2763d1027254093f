-- One row per order of any declared transaction source: its lines grouped by the
-- declared order id (a source without one: every line is an order). Revenue rules as
-- for every order (docs/sources.md): a cancellation / return order (every line carries
-- the declared marker) is no order and pays money back; a mixed order counts its
-- positive lines as gross revenue and its cancelled lines plus declared refund amounts
-- as refunds; a void order (every line of an order cancelled before it was paid) counts
-- nothing and is no order.
{{ config(enabled=var('transaction_sources') | length > 0) }}
with

lines as (
    select * from {{ ref('stg_transactions__lines') }}
),

orders as (
    select
        source,
        coalesce(order_id, substr(line_key, length(source) + 2)) as order_id,
        {% for position in range(1, 6) -%}
        min(identifier_{{ position }}) as identifier_{{ position }},
        {% endfor -%}
        min(ordered_at) as ordered_at,
        min(loaded_at) as loaded_at,
        max(loaded_at) as changed_at,
        min(case when is_cancellation then 1 else 0 end) = 1 as is_cancellation,
        min(case when is_void then 1 else 0 end) = 1 as is_void,
        -- an order counts when one of its lines is a sale (neither void nor a reversal)
        max(case when not is_void and not is_cancellation then 1 else 0 end) = 1 as has_sale,
        min(case when has_load_time then 1 else 0 end) = 1 as has_load_time,
        cast(
            sum(case when not is_cancellation and not is_void then amount else 0 end)
            as decimal(18, 2)
        ) as gross_revenue,
        cast(
            sum(case when is_void then 0 when is_cancellation then -amount else refund_amount end)
            as decimal(18, 2)
        ) as refund_amount,
        count(*) as line_count
    from lines
    group by source, coalesce(order_id, substr(line_key, length(source) + 2))
),

final as (
    select
        source || ':' || order_id as order_key,
        source,
        order_id,
        -- the first identifier present resolves the person; the others are linked to it
        coalesce(identifier_1, identifier_2, identifier_3, identifier_4, identifier_5) as identifier,
        identifier_1,
        identifier_2,
        identifier_3,
        identifier_4,
        identifier_5,
        ordered_at,
        cast(ordered_at as date) as order_date,
        case when has_sale then 'paid' when is_void then 'cancelled' else 'returned' end as order_status,
        has_sale as is_order,
        gross_revenue,
        refund_amount,
        cast(line_count as {{ dbt.type_bigint() }}) as line_count,
        has_load_time,
        loaded_at,
        changed_at
    from orders
)

select * from final
