-- One row per raw CRM customer row: email normalised, phone → E.164 with the
-- customer's country calling code, consent Y/N/empty → true/false/null, validated.
{{ config(
    enabled=lw_source_enabled('crm'),
    materialized=lw_upsert_materialization(),
    incremental_strategy='append',
) }}
{#- an incremental table: each run reads the landing files it has not read before
    (macros/staging/lw_landing_file_batch.sql) -#}
{%- set batch = lw_landing_file_batch('crm', 'customers') %}
with

landing_files as (
    {{ lw_landing_files_read(batch) }}
),

source as (
    select * from {{ lw_landing_rows('crm', 'customers', files=batch.read) }}
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

typed as (
    select
        source.customer_id as user_id,
        {{ lw_normalize_email('source.email') }} as email,
        nullif(trim(source.phone), '') as phone_raw,
        {{ lw_normalize_phone('source.phone', 'country_codes.calling_code') }} as phone_e164,
        upper(trim(source.country)) as country_code,
        country_codes.calling_code,
        {{ lw_safe_cast('source.signup_date', 'date') }} as signup_date,
        {% for consent_channel in ['email', 'sms', 'push', 'whatsapp'] -%}
        case upper(trim(source.consent_{{ consent_channel }}))
            when 'Y' then true
            when 'N' then false
        end as has_consent_{{ consent_channel }},
        {% endfor -%}
        coalesce(lower(trim(source.account_closed)) = 'true', false) as is_account_closed,
        nullif(trim(source.referred_by), '') as referred_by_user_id,
        {{ lw_iso8601_to_utc('source.updated_at') }} as updated_at,
        {{ lw_iso8601_to_utc('source._loaded_at') }} as loaded_at,
        {{ lw_row_struct('source') }} as landing_row,
        {{ lw_landing_path_column('source') }} as _lw_path
    from source
    left join country_codes
        on upper(trim(source.country)) = country_codes.country_code
),

validated as (
    select
        typed.*,
        case
            when typed.user_id is null then 'missing_customer_id'
            when not {{ lw_is_valid_id('typed.user_id', 'user') }} then 'malformed_user_id'
            when typed.email is null or not {{ lw_is_valid_id('typed.email', 'email') }} then 'malformed_email'
            when typed.calling_code is null then 'unknown_country'
            when typed.signup_date is null then 'unparseable_signup_date'
            when {{ lw_is_before_min_event_date('typed.signup_date') }} then 'timestamp_before_min_event_date'
            when typed.loaded_at is null then 'unparseable_timestamp'
        end as reject_reason
    from typed
),

final as (
    select
        validated.user_id,
        validated.email,
        validated.phone_raw,
        validated.phone_e164,
        validated.country_code,
        validated.calling_code,
        validated.signup_date,
        validated.has_consent_email,
        validated.has_consent_sms,
        validated.has_consent_push,
        validated.has_consent_whatsapp,
        validated.is_account_closed,
        validated.referred_by_user_id,
        validated.updated_at,
        validated.loaded_at,
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
