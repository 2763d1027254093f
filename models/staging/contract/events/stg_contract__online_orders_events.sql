-- Online orders (stg_online_orders__orders) as contract events, keyed to the user
-- id, else the email.
-- One source's part of stg_contract__events (the union, whose YAML documents the
-- columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('online_orders')) }}
with

online_orders_staged as (
    select * from {{ ref('stg_online_orders__orders') }}
),

final as (
    select
        'online_orders:' || order_id as event_key,
        'online_orders' as source,
        coalesce({{ lw_typed_identifier('user', 'user_id') }}, {{ lw_typed_identifier('email', 'email_hash') }})
            as identifier,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        ordered_at as event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        loaded_at,
        loaded_at as changed_at,
        is_late_arriving,
        false as is_append_only
    from online_orders_staged
)

select * from final
