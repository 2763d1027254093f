-- The identifiers an online order (stg_online_orders__orders) carries: the user id
-- and the email, when given.
-- One source's part of stg_contract__identifier_observations (the union, whose YAML
-- documents the columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('online_orders')) }}
with

orders as (
    select * from {{ ref('stg_online_orders__orders') }}
),

final as (
    select
        'online_orders' as source,
        {{ lw_typed_identifier('user', 'user_id') }} as identifier,
        ordered_at as seen_at
    from orders
    where user_id is not null
    union all
    select
        'online_orders' as source,
        {{ lw_typed_identifier('email', 'email_hash') }} as identifier,
        ordered_at as seen_at
    from orders
    where email_hash is not null
)

select * from final
