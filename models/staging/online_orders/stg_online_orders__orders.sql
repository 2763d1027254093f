-- One row per online order in its latest state (newest updated_at wins over
-- older exports of the same order), UTC, amounts in base currency.
{{ config(enabled=lw_source_enabled('online_orders')) }}
with

validated as {{ lw_deduplicate_input() }} (
    select * from {{ ref('base_online_orders__orders') }}
    where reject_reason is null
),

deduplicated as (
    {{ lw_deduplicate(
        'validated',
        'order_id',
        'updated_at desc, loaded_at desc, source_event_name, event_at, user_id,'
        ~ ' email, currency_code, order_total_local, refund_amount_local,'
        ~ ' item_count'
    ) }}
),

final as (
    select
        order_id,
        user_id,
        {{ lw_hash_pii('email') }} as email_hash,
        source_event_name as order_status,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at as ordered_at,
        cast(event_at as date) as order_date,
        updated_at,
        item_count,
        currency_code,
        cast(order_total_local as decimal(18, 2)) as order_total_local,
        {{ lw_to_base_currency('order_total_local', 'rate_to_base') }} as order_total,
        {{ lw_to_base_currency('refund_amount_local', 'rate_to_base') }} as refund_amount,
        loaded_at,
        {{ lw_is_late_arriving('event_at', 'loaded_at') }} as is_late_arriving
    from deduplicated
)

select * from final
