-- The identifier contract, sightings: one row per identifier a source record carries
-- (an event, a webhook, a till line, an order, a CRM profile, a transaction line),
-- typed '<type>:<value>' (var identifier_types; emails and phones as sha256), with
-- when the record happened. The identity graph's nodes come from here only.
{%- set parts = [] %}
{%- do lw_require_sources() %}
with

{% if lw_source_enabled('web') -%}
{%- do parts.append('web') %}
web_events as (
    select * from {{ ref('stg_web__events') }}
),

web as (
    select
        'web' as source,
        {{ lw_typed_identifier('cookie', 'cookie_id') }} as identifier,
        event_at as seen_at
    from web_events
    union all
    select
        'web' as source,
        {{ lw_typed_identifier('user', 'user_id') }} as identifier,
        event_at as seen_at
    from web_events
    where user_id is not null
),

{% endif -%}
{% if lw_source_enabled('app') -%}
{%- do parts.append('app') %}
app_events as (
    select * from {{ ref('stg_app__events') }}
),

app as (
    select
        'app' as source,
        {{ lw_typed_identifier('device', 'device_id') }} as identifier,
        event_at as seen_at
    from app_events
    union all
    select
        'app' as source,
        {{ lw_typed_identifier('user', 'user_id') }} as identifier,
        event_at as seen_at
    from app_events
    where user_id is not null
),

{% endif -%}
{% if lw_source_enabled('messaging') -%}
{%- do parts.append('messaging') %}
messaging_events as (
    select * from {{ ref('stg_messaging__events') }}
),

messaging as (
    select
        'messaging' as source,
        coalesce(
            {{ lw_typed_identifier('email', 'recipient_email_hash') }},
            {{ lw_typed_identifier('phone', 'recipient_phone_hash') }},
            {{ lw_typed_identifier('device', 'recipient_device_id') }}
        ) as identifier,
        event_at as seen_at
    from messaging_events
),

{% endif -%}
{% if lw_source_enabled('store_pos') -%}
{%- do parts.append('store_pos') %}
store_lines as (
    select * from {{ ref('stg_store_pos__transaction_lines') }}
),

store_pos as (
    select
        'store_pos' as source,
        {{ lw_typed_identifier('loyalty_card', 'loyalty_card') }} as identifier,
        event_at as seen_at
    from store_lines
    where loyalty_card is not null
    union all
    select
        'store_pos' as source,
        {{ lw_typed_identifier('phone', 'phone_hash') }} as identifier,
        event_at as seen_at
    from store_lines
    where phone_hash is not null
),

{% endif -%}
{% if lw_source_enabled('online_orders') -%}
{%- do parts.append('online_orders') %}
orders as (
    select * from {{ ref('stg_online_orders__orders') }}
),

online_orders as (
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
),

{% endif -%}
{% if lw_source_enabled('crm') -%}
{%- do parts.append('crm') %}
customers as (
    select * from {{ ref('stg_crm__customers') }}
),

crm as (
    select
        'crm' as source,
        {{ lw_typed_identifier('user', 'user_id') }} as identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    union all
    select
        'crm' as source,
        {{ lw_typed_identifier('email', 'email_hash') }} as identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    union all
    select
        'crm' as source,
        {{ lw_typed_identifier('phone', 'phone_hash') }} as identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    where phone_hash is not null
),

{% endif -%}
{% if var('transaction_sources') -%}
{%- do parts.append('transactions') %}
transaction_lines as (
    select * from {{ ref('stg_transactions__lines') }}
),

transactions as (
    {{ lw_declared_identifier_sightings('transaction_lines', 'ordered_at') }}
),

{% endif -%}
{% if var('event_sources') -%}
{%- do parts.append('declared_events') %}
declared_events_staged as (
    select * from {{ ref('stg_events__events') }}
),

declared_events as (
    {{ lw_declared_identifier_sightings('declared_events_staged', 'event_at') }}
),

{% endif -%}
{% if var('profile_sources') -%}
{%- do parts.append('declared_profiles') %}
declared_accounts as (
    select * from {{ ref('stg_profiles__accounts') }}
),

declared_profiles as (
    select
        source,
        account_identifier as identifier,
        updated_at as seen_at
    from declared_accounts
    union all
    select
        source,
        {{ lw_typed_identifier('email', 'email_hash') }} as identifier,
        updated_at as seen_at
    from declared_accounts
    where email_hash is not null
    union all
    select
        source,
        {{ lw_typed_identifier('phone', 'phone_hash') }} as identifier,
        updated_at as seen_at
    from declared_accounts
    where phone_hash is not null
),

{% endif -%}
unioned as (
    {%- for part in parts %}
    select * from {{ part }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        source,
        identifier,
        seen_at
    from unioned
)

select * from final
