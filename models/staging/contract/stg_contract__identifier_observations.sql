-- The identifier contract, sightings: one row per identifier a source record carries
-- (an event, a webhook, a till line, an order, a CRM profile, a transaction line),
-- typed '<type>:<value>' (var identifier_types; emails and phones as sha256), with
-- when the record happened. The identity graph's nodes come from here only.
-- Each source's sightings are one model (models/staging/contract/identifier_observations/),
-- in the build only when the source is; this model is their union.
{%- set parts = [] %}
{%- do lw_require_sources() %}
with

{% if lw_source_enabled('web') -%}
{%- do parts.append('web') %}
web as (
    select * from {{ ref('stg_contract__web_identifier_observations') }}
),

{% endif -%}
{% if lw_source_enabled('app') -%}
{%- do parts.append('app') %}
app as (
    select * from {{ ref('stg_contract__app_identifier_observations') }}
),

{% endif -%}
{% if lw_source_enabled('messaging') -%}
{%- do parts.append('messaging') %}
messaging as (
    select * from {{ ref('stg_contract__messaging_identifier_observations') }}
),

{% endif -%}
{% if lw_source_enabled('store_pos') -%}
{%- do parts.append('store_pos') %}
store_pos as (
    select * from {{ ref('stg_contract__store_pos_identifier_observations') }}
),

{% endif -%}
{% if lw_source_enabled('online_orders') -%}
{%- do parts.append('online_orders') %}
online_orders as (
    select * from {{ ref('stg_contract__online_orders_identifier_observations') }}
),

{% endif -%}
{% if lw_source_enabled('crm') -%}
{%- do parts.append('crm') %}
crm as (
    select * from {{ ref('stg_contract__crm_identifier_observations') }}
),

{% endif -%}
{% if var('transaction_sources') -%}
{%- do parts.append('transactions') %}
transactions as (
    select * from {{ ref('stg_contract__transactions_identifier_observations') }}
),

{% endif -%}
{% if var('event_sources') -%}
{%- do parts.append('declared_event') %}
declared_event as (
    select * from {{ ref('stg_contract__declared_event_identifier_observations') }}
),

{% endif -%}
{% if var('profile_sources') -%}
{%- do parts.append('declared_profile') %}
declared_profile as (
    select * from {{ ref('stg_contract__declared_profile_identifier_observations') }}
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
