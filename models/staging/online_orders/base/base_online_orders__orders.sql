-- One row per raw order row: ISO times with offsets → UTC, amounts → base
-- currency, email normalised, status mapped to the taxonomy, validated.
{{ config(
    enabled=lw_source_enabled('online_orders'),
    materialized=lw_upsert_materialization(),
    incremental_strategy='append',
) }}
{#- an incremental table: each run reads the landing files it has not read before
    (macros/staging/lw_landing_file_batch.sql) -#}
{%- set batch = lw_landing_file_batch('online_orders', 'orders') %}
with

landing_files as (
    {{ lw_landing_files_read(batch) }}
),

source as (
    select * from {{ lw_landing_rows('online_orders', 'orders', files=batch.read) }}
),

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
    where source = 'online_orders'
),

typed as (
    select
        source.order_id,
        nullif(trim(source.user_id), '') as user_id,
        {{ lw_normalize_email('source.customer_email') }} as email,
        lower(trim(source.order_status)) as source_event_name,
        source.currency as currency_code,
        fx_rates.rate_to_base,
        {{ lw_safe_cast('source.order_total', 'decimal(18, 4)') }} as order_total_local,
        coalesce({{ lw_safe_cast("nullif(trim(source.refund_amount), '')", 'decimal(18, 4)') }}, 0)
            as refund_amount_local,
        -- an empty refund is none; a refund that is no number is quarantined
        nullif(trim(source.refund_amount), '') is not null
        and {{ lw_safe_cast("nullif(trim(source.refund_amount), '')", 'decimal(18, 4)') }} is null
            as is_unparseable_refund,
        -- 1e3 or 1_000 would cast to 1000: money is written as a plain decimal
        not {{ lw_is_plain_number('source.order_total') }}
        or not coalesce({{ lw_is_plain_number("nullif(trim(source.refund_amount), '')") }}, true)
            as has_non_plain_amount,
        {{ lw_safe_cast('source.item_count', 'integer') }} as item_count,
        {{ lw_iso8601_to_utc('source.ordered_at') }} as event_at,
        {{ lw_iso8601_to_utc('source.updated_at') }} as updated_at,
        {{ lw_iso8601_to_utc('source._loaded_at') }} as loaded_at,
        {{ lw_row_struct('source') }} as landing_row,
        {{ lw_landing_path_column('source') }} as _lw_path
    from source
    left join fx_rates
        on source.currency = fx_rates.currency_code
),

validated as (
    select
        typed.*,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        case
            when typed.order_id is null then 'missing_order_id'
            when typed.user_id is not null and not {{ lw_is_valid_id('typed.user_id', 'user') }}
                then 'malformed_user_id'
            when typed.email is not null and not {{ lw_is_valid_id('typed.email', 'email') }}
                then 'malformed_email'
            when typed.user_id is null and typed.email is null then 'missing_customer'
            when taxonomy.event_name is null then 'unknown_order_status'
            when typed.rate_to_base is null then 'unknown_currency'
            when typed.order_total_local is null or typed.is_unparseable_refund then 'unparseable_amount'
            when typed.has_non_plain_amount then 'non_plain_amount'
            when typed.order_total_local < 0 or typed.refund_amount_local < 0 then 'negative_amount'
            when typed.event_at is null or typed.loaded_at is null then 'unparseable_timestamp'
            when {{ lw_is_future_timestamp('typed.event_at', 'typed.loaded_at') }} then 'future_timestamp'
            when {{ lw_is_before_min_event_date('typed.event_at') }} then 'timestamp_before_min_event_date'
        end as reject_reason
    from typed
    left join taxonomy
        on typed.source_event_name = taxonomy.source_event_name
),

final as (
    select
        validated.order_id,
        validated.user_id,
        validated.email,
        validated.source_event_name,
        validated.currency_code,
        validated.rate_to_base,
        validated.order_total_local,
        validated.refund_amount_local,
        validated.is_unparseable_refund,
        validated.has_non_plain_amount,
        validated.item_count,
        validated.event_at,
        validated.updated_at,
        validated.loaded_at,
        validated.event_name,
        validated.event_category,
        validated.channel,
        validated.is_user_initiated,
        validated.reject_reason,
        landing_files._lw_file,
        landing_files._lw_file_size,
        landing_files._lw_file_modified_at,
        -- the run that read the file: data tests of an incremental run check these rows
        {{ lw_run_started_at() }} as dbt_updated_at,
        -- the raw row is kept for rejected rows only (the quarantine's)
        case
            when validated.reject_reason is not null then {{ lw_landing_record('validated.landing_row') }}
        end as raw_record
    from validated
    left join landing_files
        on validated._lw_path = landing_files._lw_path
)

select * from final
