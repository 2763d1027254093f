-- The orders of the declared transaction files (stg_transactions__orders) as
-- contract events, keyed to the order's identifier.
-- One source's part of stg_contract__events (the union, whose YAML documents the
-- columns); in the build only when the source is.
{{ config(enabled=var('transaction_sources') | length > 0) }}
with

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

transaction_orders as (
    select * from {{ ref('stg_transactions__orders') }}
),

-- An order of a transaction file is a purchase; a cancellation / return order a return.
final as (
    select
        transaction_orders.order_key as event_key,
        transaction_orders.source,
        transaction_orders.identifier,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        transaction_orders.ordered_at as event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        transaction_orders.loaded_at,
        -- without a load time a later file may bring older orders: re-read every build
        case
            when transaction_orders.has_load_time then transaction_orders.changed_at
            else {{ lw_run_started_at() }}
        end as changed_at,
        false as is_late_arriving,
        false as is_append_only
    from transaction_orders
    inner join taxonomy
        on
            taxonomy.source = 'transactions'
            and taxonomy.source_event_name = case
                when transaction_orders.is_order then 'purchase'
                when transaction_orders.order_status = 'cancelled' then 'cancelled'
                else 'return'
            end
)

select * from final
