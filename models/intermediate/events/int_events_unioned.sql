-- One row per event of any source in one taxonomy, with the person it belongs to:
-- web and app events, messaging webhooks, store receipts, online orders and CRM
-- sign-ups. is_user_initiated separates what a person did (active days, sessions)
-- from what was done to them (message sends, deliveries, opens). A row whose
-- identifier resolves to no person keeps a null person_id (it is still counted).
--
-- Incremental (DECISIONLOG "Incremental models"): a run writes (1) the staged rows
-- loaded since the last run (minus var('incremental_lookback_hours')): web, app and
-- messaging rows not yet here (staging keeps their first delivery, they never change);
-- orders and CRM sign-ups rewritten (their latest version wins); every store receipt
-- that gained a line recomputed from all its lines; and (2) the rows
-- already here whose identifier now resolves to another person (new identity links),
-- with previous_person_id = the person they belonged to (also set on a rewritten row
-- that was already here). Rows written by a run carry
-- dbt_updated_at = its start: the change marker sessions and person-days read.
{{ config(
    materialized=lw_upsert_materialization(),
    unique_key='event_key',
    incremental_strategy=lw_upsert_strategy(),
    on_schema_change='fail'
) }}
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
        false as is_late_arriving,
        'cdnow:' || order_key as identifier,
        cast(null as {{ dbt.type_string() }}) as previous_person_id,
        {{ lw_run_started_at() }} as dbt_updated_at
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
    {% if is_incremental() -%}
    -- a receipt that gained a line is recomputed from all its lines
    where transaction_id in (
        select transaction_id from store_lines
        where {{ lw_loaded_after_watermark('loaded_at') }}
    )
    {%- endif %}
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
    where
        {{ lw_loaded_after_watermark('loaded_at') }}
        and {{ lw_not_yet_loaded("'web:' || event_id", 'event_key', within_window=true) }}
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
    where
        {{ lw_loaded_after_watermark('loaded_at') }}
        and {{ lw_not_yet_loaded("'app:' || event_id", 'event_key', within_window=true) }}
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
    where
        {{ lw_loaded_after_watermark('loaded_at') }}
        and {{ lw_not_yet_loaded("'messaging:' || webhook_id", 'event_key', within_window=true) }}
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
    where
        {{ lw_loaded_after_watermark('loaded_at') }}
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
    where
        {{ lw_loaded_after_watermark('customers.loaded_at') }}
),

new_rows as (
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
        identified.is_late_arriving,
        identified.identifier,
        {% if is_incremental() %}existing.person_id{% else %}cast(null as {{ dbt.type_string() }}){% endif %}
            as previous_person_id
    from identified
    left join person_map
        on identified.identifier = person_map.identifier
    {% if is_incremental() -%}
    -- a rewritten row (order, sign-up, receipt) remembers the person it belonged to
    left join {{ this }} as existing
        on identified.event_key = existing.event_key
    {%- endif %}
),

{% if is_incremental() -%}
-- rows already here whose identifier now resolves to another person (or to none)
remapped as (
    select
        existing.event_key,
        person_map.person_id,
        existing.source,
        existing.event_name,
        existing.event_category,
        existing.channel,
        existing.is_user_initiated,
        existing.event_at,
        existing.event_date,
        existing.device,
        existing.loaded_at,
        existing.is_late_arriving,
        existing.identifier,
        existing.person_id as previous_person_id
    from {{ this }} as existing
    left join person_map
        on existing.identifier = person_map.identifier
    where
        (existing.person_id <> person_map.person_id)
        or (existing.person_id is null and person_map.person_id is not null)
        or (existing.person_id is not null and person_map.person_id is null)
),

{% endif -%}
changed as (
    select * from new_rows
    {% if is_incremental() -%}
    union all
    select * from remapped
    where event_key not in (select new_rows.event_key from new_rows)
    {%- endif %}
),

final as (
    select
        changed.*,
        {{ lw_run_started_at() }} as dbt_updated_at
    from changed
)

select * from final
{% endif %}
