-- The events contract: one row per event any source of this build recorded (web and
-- app events, message webhooks, store receipts, online orders, CRM sign-ups,
-- transaction-file orders), in the one taxonomy (seeds/event_taxonomy.csv), keyed to
-- the typed identifier that resolves its person. Every later layer reads events from
-- here only. changed_at is the latest load that touched the event (a store receipt
-- that gained a line); is_append_only says a later load never rewrites it, so an
-- incremental reader may skip keys it already has.
-- Each source's events are one model (models/staging/contract/events/), in the build
-- only when the source is; this model is their union.
{%- set parts = [] %}
{%- do lw_require_sources() %}
with

{% if lw_source_enabled('web') -%}
{%- do parts.append('web_events') %}
web_events as (
    select * from {{ ref('stg_contract__web_events') }}
),

{% endif -%}
{% if lw_source_enabled('app') -%}
{%- do parts.append('app_events') %}
app_events as (
    select * from {{ ref('stg_contract__app_events') }}
),

{% endif -%}
{% if lw_source_enabled('messaging') -%}
{%- do parts.append('messaging_events') %}
messaging_events as (
    select * from {{ ref('stg_contract__messaging_events') }}
),

{% endif -%}
{% if lw_source_enabled('store_pos') -%}
{%- do parts.append('store_pos_events') %}
store_pos_events as (
    select * from {{ ref('stg_contract__store_pos_events') }}
),

{% endif -%}
{% if lw_source_enabled('online_orders') -%}
{%- do parts.append('online_orders_events') %}
online_orders_events as (
    select * from {{ ref('stg_contract__online_orders_events') }}
),

{% endif -%}
{% if lw_source_enabled('crm') -%}
{%- do parts.append('crm_events') %}
crm_events as (
    select * from {{ ref('stg_contract__crm_events') }}
),

{% endif -%}
{% if var('transaction_sources') -%}
{%- do parts.append('transactions_events') %}
transactions_events as (
    select * from {{ ref('stg_contract__transactions_events') }}
),

{% endif -%}
{% if var('event_sources') -%}
{%- do parts.append('declared_events') %}
declared_events as (
    select * from {{ ref('stg_contract__declared_events') }}
),

{% endif -%}
{% if var('profile_sources') -%}
{%- do parts.append('declared_profile_events') %}
declared_profile_events as (
    select * from {{ ref('stg_contract__declared_profile_events') }}
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
