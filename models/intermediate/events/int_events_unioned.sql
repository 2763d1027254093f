-- One row per event of any source in one taxonomy, with the person it belongs to:
-- web and app events, messaging webhooks, store receipts, online orders and CRM
-- sign-ups. is_user_initiated separates what a person did (active days, sessions)
-- from what was done to them (message sends, deliveries, opens). A row whose
-- identifier resolves to no person keeps a null person_id (it is still counted).
{% if var('dataset') == 'cdnow' %}
with

orders as (
    select * from {{ ref('int_orders') }}
),

final as (
    select
        order_key as event_key,
        person_id,
        'cdnow' as source,
        'order_placed' as event_name,
        'purchase' as event_category,
        'online_store' as channel,
        true as is_user_initiated,
        ordered_at as event_at,
        order_date as event_date,
        cast(null as {{ dbt.type_string() }}) as device,
        ordered_at as loaded_at,
        false as is_late_arriving
    from orders
)

select * from final
{% else %}
with

web_events as (
    select * from {{ ref('stg_web__events') }}
),

app_events as (
    select * from {{ ref('stg_app__events') }}
),

messaging_events as (
    select * from {{ ref('stg_messaging__events') }}
),

store_lines as (
    select * from {{ ref('stg_store_pos__transaction_lines') }}
),

online_orders as (
    select * from {{ ref('stg_online_orders__orders') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

-- A store receipt is one event: a purchase, or a return when it only returns goods.
store_receipts as (
    select
        transaction_id,
        min(event_at) as event_at,
        min(loaded_at) as loaded_at,
        min(store_id) as store_id,
        min(coalesce('loyalty_card:' || loyalty_card, 'phone:' || phone_hash)) as identifier,
        case when max(case when is_return then 0 else 1 end) = 1 then 'purchase' else 'return' end
            as source_event_name,
        max(case when is_late_arriving then 1 else 0 end) = 1 as is_late_arriving
    from store_lines
    group by transaction_id
),

identified as (
    select
        'web:' || event_id as event_key,
        coalesce('user:' || user_id, 'cookie:' || cookie_id) as identifier,
        'web' as source,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        device_type as device,
        loaded_at,
        is_late_arriving
    from web_events
    union all
    select
        'app:' || event_id as event_key,
        coalesce('user:' || user_id, 'device:' || device_id) as identifier,
        'app' as source,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        platform as device,
        loaded_at,
        is_late_arriving
    from app_events
    union all
    select
        'messaging:' || webhook_id as event_key,
        coalesce(
            'email:' || recipient_email_hash,
            'phone:' || recipient_phone_hash,
            'device:' || recipient_device_id
        ) as identifier,
        'messaging' as source,
        event_name,
        event_category,
        message_channel as channel,
        is_user_initiated,
        event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        loaded_at,
        is_late_arriving
    from messaging_events
    union all
    select
        'store_pos:' || store_receipts.transaction_id as event_key,
        store_receipts.identifier,
        'store_pos' as source,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        store_receipts.event_at,
        store_receipts.store_id as device,
        store_receipts.loaded_at,
        store_receipts.is_late_arriving
    from store_receipts
    inner join taxonomy
        on
            taxonomy.source = 'store_pos'
            and store_receipts.source_event_name = taxonomy.source_event_name
    union all
    select
        'online_orders:' || order_id as event_key,
        coalesce('user:' || user_id, 'email:' || email_hash) as identifier,
        'online_orders' as source,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        ordered_at as event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        loaded_at,
        is_late_arriving
    from online_orders
    union all
    select
        'crm:' || customers.user_id as event_key,
        'user:' || customers.user_id as identifier,
        'crm' as source,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        cast(customers.signup_date as timestamp) as event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        customers.loaded_at,
        false as is_late_arriving
    from customers
    inner join taxonomy
        on
            taxonomy.source = 'crm'
            and taxonomy.source_event_name = 'signup'
),

final as (
    select
        identified.event_key,
        person_map.person_id,
        identified.source,
        identified.event_name,
        identified.event_category,
        identified.channel,
        identified.is_user_initiated,
        identified.event_at,
        cast(identified.event_at as date) as event_date,
        identified.device,
        identified.loaded_at,
        identified.is_late_arriving
    from identified
    left join person_map
        on identified.identifier = person_map.identifier
)

select * from final
{% endif %}
