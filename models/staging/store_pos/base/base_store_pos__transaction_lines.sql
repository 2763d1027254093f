-- One row per raw POS line: store-local time → UTC with the store's time zone,
-- price → base currency, phone → E.164 with the store country's calling code.
{{ config(
    enabled=lw_source_enabled('store_pos'),
    materialized=lw_upsert_materialization(),
    incremental_strategy='append',
) }}
{#- an incremental table: each run reads the landing files it has not read before
    (macros/staging/lw_landing_file_batch.sql) -#}
{%- set batch = lw_landing_file_batch('store_pos', 'transaction_lines') %}
with

landing_files as (
    {{ lw_landing_files_read(batch) }}
),

source as (
    select * from {{ lw_landing_rows('store_pos', 'transaction_lines', files=batch.read) }}
),

stores as (
    select * from {{ ref('stores') }}
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
    where source = 'store_pos'
),

typed as (
    select
        source.transaction_id,
        {{ lw_safe_cast('source.line_number', 'integer') }} as line_number,
        source.transaction_id
        || '#'
        || cast({{ lw_safe_cast('source.line_number', 'integer') }} as {{ dbt.type_string() }})
            as line_key,
        source.store_id,
        stores.timezone as store_timezone,
        {{ lw_local_to_utc(lw_safe_cast('source.transaction_local_time', 'timestamp'), 'stores.timezone') }}
            as event_at,
        -- 'gap' / 'overlap': a wall time the clock change skipped / repeated (read as
        -- lw_local_to_utc says), null otherwise
        {{ lw_local_time_ambiguity(lw_safe_cast('source.transaction_local_time', 'timestamp'), 'stores.timezone') }}
            as local_time_ambiguity,
        {{ lw_iso8601_to_utc('source._loaded_at') }} as loaded_at,
        nullif(trim(source.loyalty_card), '') as loyalty_card,
        nullif(trim(source.phone), '') as phone_raw,
        {{ lw_normalize_phone('source.phone', 'country_codes.calling_code') }} as phone_e164,
        source.sku,
        {{ lw_safe_cast('source.quantity', 'integer') }} as quantity,
        {{ lw_safe_cast('source.unit_price', 'decimal(18, 4)') }} as unit_price_local,
        -- 1e3 or 1_000 would cast to 1000, a quantity 1.5 to 2: written plainly or quarantined
        not {{ lw_is_plain_number('source.quantity', integer=true) }}
        or not {{ lw_is_plain_number('source.unit_price') }}
            as has_non_plain_amount,
        source.currency as currency_code,
        fx_rates.rate_to_base,
        lower(source.is_return) = 'true' as is_return,
        {{ lw_row_struct('source') }} as landing_row,
        {{ lw_landing_path_column('source') }} as _lw_path
    from source
    left join stores
        on source.store_id = stores.store_id
    left join country_codes
        on stores.country_code = country_codes.country_code
    left join fx_rates
        on source.currency = fx_rates.currency_code
),

validated as (
    select
        typed.*,
        case when typed.is_return then 'return' else 'purchase' end as source_event_name,
        case
            when typed.transaction_id is null or typed.line_number is null then 'missing_line_key'
            when typed.store_timezone is null then 'unknown_store'
            when typed.loyalty_card is not null and not {{ lw_is_valid_id('typed.loyalty_card', 'loyalty_card') }}
                then 'malformed_loyalty_card'
            when typed.rate_to_base is null then 'unknown_currency'
            when typed.quantity is null or typed.unit_price_local is null then 'unparseable_amount'
            when typed.has_non_plain_amount then 'non_plain_amount'
            when typed.unit_price_local < 0 then 'negative_amount'
            when typed.is_return <> (typed.quantity < 0) then 'return_sign_mismatch'
            when typed.event_at is null or typed.loaded_at is null then 'unparseable_timestamp'
            when {{ lw_is_future_timestamp('typed.event_at', 'typed.loaded_at') }} then 'future_timestamp'
            when {{ lw_is_before_min_event_date('typed.event_at') }} then 'timestamp_before_min_event_date'
        end as reject_reason
    from typed
),

mapped as (
    select
        validated.*,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated
    from validated
    left join taxonomy
        on validated.source_event_name = taxonomy.source_event_name
),

final as (
    select
        mapped.transaction_id,
        mapped.line_number,
        mapped.line_key,
        mapped.store_id,
        mapped.store_timezone,
        mapped.event_at,
        mapped.local_time_ambiguity,
        mapped.loaded_at,
        mapped.loyalty_card,
        mapped.phone_raw,
        mapped.phone_e164,
        mapped.sku,
        mapped.quantity,
        mapped.unit_price_local,
        mapped.has_non_plain_amount,
        mapped.currency_code,
        mapped.rate_to_base,
        mapped.is_return,
        mapped.source_event_name,
        mapped.reject_reason,
        mapped.event_name,
        mapped.event_category,
        mapped.channel,
        mapped.is_user_initiated,
        landing_files._lw_file,
        landing_files._lw_file_size,
        landing_files._lw_file_modified_at,
        -- the run that read the file: data tests of an incremental run check these rows
        {{ lw_run_started_at() }} as dbt_updated_at,
        -- the raw row is kept for rejected rows only (the quarantine's)
        case
            when mapped.reject_reason is not null then {{ lw_landing_record('mapped.landing_row') }}
        end as raw_record
    from mapped
    left join landing_files
        on mapped._lw_path = landing_files._lw_path
)

select * from final
