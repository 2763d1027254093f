-- One row per customer account of any declared profile source (docs/sources.md), the
-- newest row of an account winning (updated_at, then its raw record: deterministic).
-- Contact points leave staging only as sha256 hashes.
{{ config(enabled=var('profile_sources') | length > 0) }}
with

validated as {{ lw_deduplicate_input() }} (
    select * from {{ ref('base_profiles__accounts') }}
    where reject_reason is null
),

deduplicated as (
    {{ lw_deduplicate('validated', 'account_identifier', 'updated_at desc, record_hash') }}
),

final as (
    select
        source,
        account_identifier,
        account_id,
        country_code,
        signup_date,
        {{ lw_hash_pii('email') }} as email_hash,
        {{ lw_hash_pii('phone_e164') }} as phone_hash,
        phone_raw is not null and phone_e164 is null as has_unparseable_phone,
        has_consent_email,
        has_consent_sms,
        has_consent_push,
        has_consent_whatsapp,
        is_account_closed,
        referred_by_identifier,
        updated_at,
        loaded_at
    from deduplicated
)

select * from final
