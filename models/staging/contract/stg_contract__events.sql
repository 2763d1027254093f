-- The events contract: one row per event any source of this build recorded (web and
-- app events, message webhooks, store receipts, online orders, CRM sign-ups,
-- transaction-file orders), in the one taxonomy (seeds/event_taxonomy.csv), keyed to
-- the typed identifier that resolves its person. Every later layer reads events from
-- here only. changed_at is the latest load that touched the event (a store receipt
-- that gained a line); is_append_only says a later load never rewrites it, so an
-- incremental reader may skip keys it already has.
{%- set parts = [] %}
{%- do lw_require_sources() %}
with

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

{% if lw_source_enabled('web') -%}
{%- do parts.append('web') %}
web_events as (
    select * from {{ ref('stg_web__events') }}
),

web as (
    select
        'web:' || event_id as event_key,
        'web' as source,
        coalesce({{ lw_typed_identifier('user', 'user_id') }}, {{ lw_typed_identifier('cookie', 'cookie_id') }})
            as identifier,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        device_type as device,
        loaded_at,
        loaded_at as changed_at,
        is_late_arriving,
        true as is_append_only
    from web_events
),

{% endif -%}
{% if lw_source_enabled('app') -%}
{%- do parts.append('app') %}
app_events as (
    select * from {{ ref('stg_app__events') }}
),

app as (
    select
        'app:' || event_id as event_key,
        'app' as source,
        coalesce({{ lw_typed_identifier('user', 'user_id') }}, {{ lw_typed_identifier('device', 'device_id') }})
            as identifier,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        platform as device,
        loaded_at,
        loaded_at as changed_at,
        is_late_arriving,
        true as is_append_only
    from app_events
),

{% endif -%}
{% if lw_source_enabled('messaging') -%}
{%- do parts.append('messaging') %}
messaging_events as (
    select * from {{ ref('stg_messaging__events') }}
),

messaging as (
    select
        'messaging:' || webhook_id as event_key,
        'messaging' as source,
        coalesce(
            {{ lw_typed_identifier('email', 'recipient_email_hash') }},
            {{ lw_typed_identifier('phone', 'recipient_phone_hash') }},
            {{ lw_typed_identifier('device', 'recipient_device_id') }}
        ) as identifier,
        event_name,
        event_category,
        message_channel as channel,
        is_user_initiated,
        event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        loaded_at,
        loaded_at as changed_at,
        is_late_arriving,
        true as is_append_only
    from messaging_events
),

{% endif -%}
{% if lw_source_enabled('store_pos') -%}
{%- do parts.append('store_pos') %}
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

store_pos as (
    select
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
),

{% endif -%}
{% if lw_source_enabled('online_orders') -%}
{%- do parts.append('online_orders') %}
online_orders_staged as (
    select * from {{ ref('stg_online_orders__orders') }}
),

online_orders as (
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
),

{% endif -%}
{% if lw_source_enabled('crm') -%}
{%- do parts.append('crm') %}
customers as (
    select * from {{ ref('stg_crm__customers') }}
),

crm as (
    select
        'crm:' || customers.user_id as event_key,
        'crm' as source,
        {{ lw_typed_identifier('user', 'customers.user_id') }} as identifier,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        cast(customers.signup_date as timestamp) as event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        customers.loaded_at,
        customers.loaded_at as changed_at,
        false as is_late_arriving,
        false as is_append_only
    from customers
    inner join taxonomy
        on
            taxonomy.source = 'crm'
            and taxonomy.source_event_name = 'signup'
),

{% endif -%}
{% if var('transaction_sources') -%}
{%- do parts.append('transactions') %}
transaction_orders as (
    select * from {{ ref('stg_transactions__orders') }}
),

-- An order of a transaction file is a purchase; a cancellation / return order a return.
transactions as (
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
),

{% endif -%}
{% if var('event_sources') -%}
{%- do parts.append('declared_events') %}
declared_events_staged as (
    select * from {{ ref('stg_events__events') }}
),

-- the first identifier present (the declared order of precedence) resolves the person
declared_events as (
    select
        event_key,
        source,
        coalesce(identifier_1, identifier_2, identifier_3, identifier_4, identifier_5) as identifier,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        device,
        loaded_at,
        -- without a load time a later file may bring older events: re-read every build
        case when has_load_time then loaded_at else {{ lw_run_started_at() }} end as changed_at,
        is_late_arriving,
        has_load_time as is_append_only
    from declared_events_staged
),

{% endif -%}
{% if var('profile_sources') -%}
{%- do parts.append('declared_profiles') %}
declared_accounts as (
    select * from {{ ref('stg_profiles__accounts') }}
),

-- an account with a signup date is a sign-up event, as a CRM profile is
declared_profiles as (
    select
        declared_accounts.source || ':' || declared_accounts.account_identifier as event_key,
        declared_accounts.source,
        declared_accounts.account_identifier as identifier,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        cast(declared_accounts.signup_date as timestamp) as event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        declared_accounts.loaded_at,
        -- profiles have no load time: re-read every build
        {{ lw_run_started_at() }} as changed_at,
        false as is_late_arriving,
        false as is_append_only
    from declared_accounts
    inner join taxonomy
        on
            taxonomy.source = 'profiles'
            and taxonomy.source_event_name = 'signup'
    where declared_accounts.signup_date is not null
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
        event_key,
        source,
        identifier,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        cast(event_at as date) as event_date,
        device,
        loaded_at,
        changed_at,
        is_late_arriving,
        is_append_only
    from unioned
)

select * from final
