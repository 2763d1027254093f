-- One row per CRM customer (newest snapshot row wins). PII leaves staging
-- only as sha256 hashes of the normalised email / E.164 phone.
{{ config(enabled=lw_source_enabled('crm')) }}
with

validated as {{ lw_deduplicate_input() }} (
    select * from {{ ref('base_crm__customers') }}
    where reject_reason is null
),

deduplicated as (
    {{ lw_deduplicate(
        'validated',
        'user_id',
        'updated_at desc, loaded_at desc, email, phone_raw, country_code,'
        ~ ' signup_date, has_consent_email, has_consent_sms, has_consent_push,'
        ~ ' has_consent_whatsapp, is_account_closed, referred_by_user_id'
    ) }}
),

final as (
    select
        user_id,
        {{ lw_hash_pii('email') }} as email_hash,
        {{ lw_hash_pii('phone_e164') }} as phone_hash,
        phone_raw is not null and phone_e164 is null as has_unparseable_phone,
        country_code,
        signup_date,
        has_consent_email,
        has_consent_sms,
        has_consent_push,
        has_consent_whatsapp,
        is_account_closed,
        referred_by_user_id,
        updated_at,
        loaded_at
    from deduplicated
)

select * from final
