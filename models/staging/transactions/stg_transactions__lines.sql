-- One row per valid transaction line of any declared transaction source (docs/sources.md),
-- the newest delivery of a line kept (a declared line_id updated by a later export): money in the base currency (negative for a cancellation or
-- return), refund_amount the money refunded on the line (positive), the customer as its
-- identifier type stages it and every identifier typed (identifier_1 = the customer id,
-- then the declared further ones; all null when the line names none: kept, counted in
-- revenue, reaches no person).
{{ config(enabled=var('transaction_sources') | length > 0) }}
with

validated as {{ lw_deduplicate_input() }} (
    select * from {{ ref('base_transactions__lines') }}
    where reject_reason is null
),

deduplicated as (
    {{ lw_deduplicate('validated', 'line_key', 'loaded_at desc, file_name, line_number') }}
),

final as (
    select
        line_key,
        source,
        customer_identifier_type,
        customer_id,
        identifier_1,
        identifier_2,
        identifier_3,
        identifier_4,
        identifier_5,
        order_id,
        product_id,
        ordered_at,
        cast(ordered_at as date) as order_date,
        quantity,
        amount,
        refund_amount,
        is_cancellation,
        is_void,
        has_load_time,
        loaded_at
    from deduplicated
)

select * from final
