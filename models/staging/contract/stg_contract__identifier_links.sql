-- The identifier contract, links: one row per pair of identifiers one source record
-- carries together (a login: cookie and user id; a checkout: user id and email; a CRM
-- profile: user id and email / phone; a till line: loyalty card and phone), the
-- record's person-resolving identifier first. The identity graph's edges come from
-- here only, before the over-merge guard.
{%- set parts = [] %}
with

{% if lw_source_enabled('web') -%}
{%- do parts.append('web') %}
web_events as (
    select * from {{ ref('stg_web__events') }}
),

web as (
    select
        'web' as source,
        {{ lw_typed_identifier('cookie', 'cookie_id') }} as left_identifier,
        {{ lw_typed_identifier('user', 'user_id') }} as right_identifier,
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
        {{ lw_typed_identifier('device', 'device_id') }} as left_identifier,
        {{ lw_typed_identifier('user', 'user_id') }} as right_identifier,
        event_at as seen_at
    from app_events
    where user_id is not null
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
        {{ lw_typed_identifier('loyalty_card', 'loyalty_card') }} as left_identifier,
        {{ lw_typed_identifier('phone', 'phone_hash') }} as right_identifier,
        event_at as seen_at
    from store_lines
    where loyalty_card is not null and phone_hash is not null
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
        {{ lw_typed_identifier('user', 'user_id') }} as left_identifier,
        {{ lw_typed_identifier('email', 'email_hash') }} as right_identifier,
        ordered_at as seen_at
    from orders
    where user_id is not null and email_hash is not null
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
        {{ lw_typed_identifier('user', 'user_id') }} as left_identifier,
        {{ lw_typed_identifier('email', 'email_hash') }} as right_identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    union all
    select
        'crm' as source,
        {{ lw_typed_identifier('user', 'user_id') }} as left_identifier,
        {{ lw_typed_identifier('phone', 'phone_hash') }} as right_identifier,
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
    {{ lw_declared_identifier_links('transaction_lines', 'ordered_at') }}
),

{% endif -%}
{% if var('event_sources') -%}
{%- do parts.append('declared_events') %}
declared_events_staged as (
    select * from {{ ref('stg_events__events') }}
),

declared_events as (
    {{ lw_declared_identifier_links('declared_events_staged', 'event_at') }}
),

{% endif -%}
{% if var('profile_sources') -%}
{%- do parts.append('declared_profiles') %}
declared_accounts as (
    select * from {{ ref('stg_profiles__accounts') }}
),

-- an account links its email and its phone, as a CRM profile does
declared_profiles as (
    select
        source,
        account_identifier as left_identifier,
        {{ lw_typed_identifier('email', 'email_hash') }} as right_identifier,
        updated_at as seen_at
    from declared_accounts
    where email_hash is not null
    union all
    select
        source,
        account_identifier as left_identifier,
        {{ lw_typed_identifier('phone', 'phone_hash') }} as right_identifier,
        updated_at as seen_at
    from declared_accounts
    where phone_hash is not null
),

{% endif -%}
-- typed placeholder: a build whose sources carry no pairs has no links
no_links as (
    select
        cast(null as {{ dbt.type_string() }}) as source,
        cast(null as {{ dbt.type_string() }}) as left_identifier,
        cast(null as {{ dbt.type_string() }}) as right_identifier,
        cast(null as {{ dbt.type_timestamp() }}) as seen_at
    where 1 = 0
),

unioned as (
    select * from no_links
    {%- for part in parts %}
    union all
    select * from {{ part }}
    {%- endfor %}
),

final as (
    select
        source,
        left_identifier,
        right_identifier,
        seen_at
    from unioned
)

select * from final
