-- One row per identifier per source: every identifier any source has seen, with
-- when it was first and last seen there. Identifiers are typed strings
-- '<type>:<value>' (user, cookie, device, loyalty_card, email and phone as sha256).
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

orders as (
    select * from {{ ref('stg_online_orders__orders') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

sightings as (
    select
        'web' as source,
        'cookie:' || cookie_id as identifier,
        event_at as seen_at
    from web_events
    union all
    select
        'web' as source,
        'user:' || user_id as identifier,
        event_at as seen_at
    from web_events
    where user_id is not null
    union all
    select
        'app' as source,
        'device:' || device_id as identifier,
        event_at as seen_at
    from app_events
    union all
    select
        'app' as source,
        'user:' || user_id as identifier,
        event_at as seen_at
    from app_events
    where user_id is not null
    union all
    select
        'messaging' as source,
        coalesce(
            'email:' || recipient_email_hash,
            'phone:' || recipient_phone_hash,
            'device:' || recipient_device_id
        ) as identifier,
        event_at as seen_at
    from messaging_events
    union all
    select
        'store_pos' as source,
        'loyalty_card:' || loyalty_card as identifier,
        event_at as seen_at
    from store_lines
    where loyalty_card is not null
    union all
    select
        'store_pos' as source,
        'phone:' || phone_hash as identifier,
        event_at as seen_at
    from store_lines
    where phone_hash is not null
    union all
    select
        'online_orders' as source,
        'user:' || user_id as identifier,
        ordered_at as seen_at
    from orders
    where user_id is not null
    union all
    select
        'online_orders' as source,
        'email:' || email_hash as identifier,
        ordered_at as seen_at
    from orders
    where email_hash is not null
    union all
    select
        'crm' as source,
        'user:' || user_id as identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    union all
    select
        'crm' as source,
        'email:' || email_hash as identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    union all
    select
        'crm' as source,
        'phone:' || phone_hash as identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    where phone_hash is not null
),

final as (
    select
        identifier,
        source,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) as sightings
    from sightings
    group by identifier, source
)

select * from final
