-- The customer-profile contract: one row per customer account a source keeps (the
-- demo's CRM, declared profile sources), keyed by its typed account identifier, with consent per channel and
-- contact points as sha256 hashes only. A build without a profile source has none:
-- consent, signup and referral columns downstream are then null / false.
{%- set parts = [] %}
with

{% if lw_source_enabled('crm') -%}
{%- do parts.append('crm') %}
customers as (
    select * from {{ ref('stg_crm__customers') }}
),

crm as (
    select
        'crm' as source,
        {{ lw_typed_identifier('user', 'user_id') }} as account_identifier,
        user_id as account_id,
        country_code,
        signup_date,
        email_hash,
        phone_hash,
        has_consent_email,
        has_consent_sms,
        has_consent_push,
        has_consent_whatsapp,
        is_account_closed,
        {{ lw_typed_identifier('user', 'referred_by_user_id') }} as referred_by_identifier,
        updated_at,
        loaded_at
    from customers
),

{% endif -%}
{% if var('profile_sources') -%}
{%- do parts.append('declared_profiles') %}
declared_accounts as (
    select * from {{ ref('stg_profiles__accounts') }}
),

declared_profiles as (
    select
        source,
        account_identifier,
        account_id,
        country_code,
        signup_date,
        email_hash,
        phone_hash,
        has_consent_email,
        has_consent_sms,
        has_consent_push,
        has_consent_whatsapp,
        is_account_closed,
        referred_by_identifier,
        updated_at,
        loaded_at
    from declared_accounts
),

{% endif -%}
-- typed placeholder: a build without a profile source has no profiles
no_profiles as (
    select
        cast(null as {{ dbt.type_string() }}) as source,
        cast(null as {{ dbt.type_string() }}) as account_identifier,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as date) as signup_date,
        cast(null as {{ dbt.type_string() }}) as email_hash,
        cast(null as {{ dbt.type_string() }}) as phone_hash,
        cast(null as boolean) as has_consent_email,
        cast(null as boolean) as has_consent_sms,
        cast(null as boolean) as has_consent_push,
        cast(null as boolean) as has_consent_whatsapp,
        cast(null as boolean) as is_account_closed,
        cast(null as {{ dbt.type_string() }}) as referred_by_identifier,
        cast(null as {{ dbt.type_timestamp() }}) as updated_at,
        cast(null as {{ dbt.type_timestamp() }}) as loaded_at
    where 1 = 0
),

unioned as (
    select * from no_profiles
    {%- for part in parts %}
    union all
    select * from {{ part }}
    {%- endfor %}
),

final as (
    select
        source,
        account_identifier,
        account_id,
        country_code,
        signup_date,
        email_hash,
        phone_hash,
        has_consent_email,
        has_consent_sms,
        has_consent_push,
        has_consent_whatsapp,
        is_account_closed,
        referred_by_identifier,
        updated_at,
        loaded_at
    from unioned
)

select * from final
