-- One row per valid transaction line of any declared transaction source (docs/sources.md),
-- first delivery kept: money in the base currency (negative for a cancellation or
-- return), the customer as its identifier type stages it (null when the line names
-- none: kept, counted in revenue, reaches no person).
{{ config(enabled=var('transaction_sources') | length > 0) }}
with

validated as (
    select * from {{ ref('base_transactions__lines') }}
    where reject_reason is null
),

deduplicated as (
    {{ lw_deduplicate('validated', 'line_key', 'loaded_at, file_name, line_number') }}
),

final as (
    select
        line_key,
        source,
        customer_identifier_type,
        customer_id,
        order_id,
        product_id,
        ordered_at,
        cast(ordered_at as date) as order_date,
        quantity,
        amount,
        is_cancellation,
        loaded_at
    from deduplicated
)

select * from final
