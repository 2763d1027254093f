-- Store receipts (stg_store_pos__transaction_lines grouped by receipt) as contract
-- events, keyed to the loyalty card, else the phone.
-- One source's part of stg_contract__events (the union, whose YAML documents the
-- columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('store_pos')) }}
with

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

store_lines as (
    select * from {{ ref('stg_store_pos__transaction_lines') }}
),

-- A store receipt is one event: a purchase, or a return when it only returns goods.
store_receipts as (
    select
        transaction_id,
        min(event_at) as event_at,
        min(loaded_at) as loaded_at,
        max(loaded_at) as changed_at,
        min(store_id) as store_id,
        min(coalesce(
            {{ lw_typed_identifier('loyalty_card', 'loyalty_card') }},
            {{ lw_typed_identifier('phone', 'phone_hash') }}
        )) as identifier,
        case when max(case when is_return then 0 else 1 end) = 1 then 'purchase' else 'return' end
            as source_event_name,
        max(case when is_late_arriving then 1 else 0 end) = 1 as is_late_arriving
    from store_lines
    group by transaction_id
),

-- the contract's column order: stg_contract__events unions the sources by position
final as (
    select  -- noqa: ST06
        'store_pos:' || store_receipts.transaction_id as event_key,
        'store_pos' as source,
        store_receipts.identifier,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        store_receipts.event_at,
        store_receipts.store_id as device,
        store_receipts.loaded_at,
        store_receipts.changed_at,
        store_receipts.is_late_arriving,
        false as is_append_only
    from store_receipts
    inner join taxonomy
        on
            taxonomy.source = 'store_pos'
            and store_receipts.source_event_name = taxonomy.source_event_name
)

select * from final
