-- One row per pair of identifiers observed together on one record (a login, a
-- checkout, a CRM profile, a till receipt), stored once with identifier_a <
-- identifier_b, with the sources that saw the pair. Raw evidence for the
-- identity graph, before the over-merge guard.
with

web_events as (
    select * from {{ ref('stg_web__events') }}
),

app_events as (
    select * from {{ ref('stg_app__events') }}
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

co_occurrences as (
    select
        'web' as source,
        'cookie:' || cookie_id as left_id,
        'user:' || user_id as right_id,
        event_at as seen_at
    from web_events
    where user_id is not null
    union all
    select
        'app' as source,
        'device:' || device_id as left_id,
        'user:' || user_id as right_id,
        event_at as seen_at
    from app_events
    where user_id is not null
    union all
    select
        'store_pos' as source,
        'loyalty_card:' || loyalty_card as left_id,
        'phone:' || phone_hash as right_id,
        event_at as seen_at
    from store_lines
    where loyalty_card is not null and phone_hash is not null
    union all
    select
        'online_orders' as source,
        'user:' || user_id as left_id,
        'email:' || email_hash as right_id,
        ordered_at as seen_at
    from orders
    where user_id is not null and email_hash is not null
    union all
    select
        'crm' as source,
        'user:' || user_id as left_id,
        'email:' || email_hash as right_id,
        cast(signup_date as timestamp) as seen_at
    from customers
    union all
    select
        'crm' as source,
        'user:' || user_id as left_id,
        'phone:' || phone_hash as right_id,
        cast(signup_date as timestamp) as seen_at
    from customers
    where phone_hash is not null
),

undirected as (
    select
        source,
        seen_at,
        case when left_id < right_id then left_id else right_id end as identifier_a,
        case when left_id < right_id then right_id else left_id end as identifier_b
    from co_occurrences
),

pairs_per_source as (
    select
        identifier_a,
        identifier_b,
        source,
        min(seen_at) as first_seen_at,
        count(*) as observations
    from undirected
    group by identifier_a, identifier_b, source
),

pairs as (
    select
        identifier_a,
        identifier_b,
        {{ lw_sorted_listagg('source') }} as link_sources,
        min(first_seen_at) as first_seen_at,
        cast(sum(observations) as {{ dbt.type_bigint() }}) as observations
    from pairs_per_source
    group by identifier_a, identifier_b
),

final as (
    select * from pairs
)

select * from final
