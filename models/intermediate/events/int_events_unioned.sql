-- One row per event of any source in one taxonomy, with the person it belongs to:
-- web and app events, messaging webhooks, store receipts, online orders, CRM
-- sign-ups and transaction-file orders. is_user_initiated separates what a person did (active days, sessions)
-- from what was done to them (message sends, deliveries, opens). A row whose
-- identifier resolves to no person keeps a null person_id (it is still counted).
--
-- Reads the events contract (stg_contract__events) only.
-- Incremental (DECISIONLOG "Incremental models"): a run writes (1) the contract rows
-- loaded since the last run (minus var('incremental_lookback_hours')): append-only
-- events (web, app, messaging) not yet here (staging keeps their first delivery, they
-- never change); rewritable ones (orders, CRM sign-ups, store receipts that gained a
-- line, transaction-file orders) rewritten, their latest version wins; and (2) the rows
-- already here whose identifier now resolves to another person (new identity links),
-- with previous_person_id = the person they belonged to (also set on a rewritten row
-- that was already here). Rows written by a run carry
-- dbt_updated_at = its start: the change marker sessions and person-days read.
-- depends_on: {{ ref('int_identity__components') }} (read on incremental runs only)
{{ config(
    materialized=lw_upsert_materialization(),
    unique_key='event_key',
    incremental_strategy=lw_upsert_strategy(),
    on_schema_change='fail'
) }}
with

contract_events as (
    select * from {{ ref('stg_contract__events') }}
),

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

-- the events loaded (or, for a rewritable event, changed) since the last run; an
-- append-only event already here is not read twice
identified as (
    select * from contract_events
    where
        {{ lw_loaded_after_watermark('changed_at') }}
        and (
            not is_append_only
            or {{ lw_not_yet_loaded('event_key', 'event_key', within_window=true) }}
        )
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
        identified.event_date,
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
-- rows already here whose identifier now resolves to another person (or to none);
-- only an identifier whose component was recomputed since this model's last run can
-- (int_identity__components is incremental), so only those rows are compared
recomputed_identifiers as (
    select identifier from {{ ref('int_identity__components') }}
    where {{ lw_changed_since_last_run('dbt_updated_at') }}
),

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
        existing.identifier in (select recomputed_identifiers.identifier from recomputed_identifiers)
        and (
            (existing.person_id <> person_map.person_id)
            or (existing.person_id is null and person_map.person_id is not null)
            or (existing.person_id is not null and person_map.person_id is null)
        )
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
