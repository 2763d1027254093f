-- One row per POS line item that passed validation (first delivery kept), in
-- UTC and base currency. Returns are lines with negative quantity and amount.
{{ config(enabled=lw_source_enabled('store_pos')) }}
with

validated as {{ lw_deduplicate_input() }} (
    select * from {{ ref('base_store_pos__transaction_lines') }}
    where reject_reason is null
),

deduplicated as (
    {{ lw_deduplicate(
        'validated',
        'line_key',
        'loaded_at, event_at, store_id, sku, quantity, unit_price_local,'
        ~ ' currency_code, is_return, loyalty_card, phone_raw'
    ) }}
),

final as (
    select
        line_key,
        transaction_id,
        line_number,
        store_id,
        source_event_name,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        cast(event_at as date) as event_date,
        local_time_ambiguity,
        loyalty_card,
        {{ lw_hash_pii('phone_e164') }} as phone_hash,
        phone_raw is not null and phone_e164 is null as has_unparseable_phone,
        sku,
        quantity,
        is_return,
        currency_code,
        cast(quantity * unit_price_local as decimal(18, 2)) as line_amount_local,
        {{ lw_to_base_currency('quantity * unit_price_local', 'rate_to_base') }} as line_amount,
        loaded_at,
        {{ lw_is_late_arriving('event_at', 'loaded_at') }} as is_late_arriving
    from deduplicated
)

select * from final
