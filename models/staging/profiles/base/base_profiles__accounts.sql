-- One row per raw row of every declared profile source (var profile_sources,
-- docs/sources.md): a customer account typed from the declaration's column mapping,
-- contact points normalised (email lower-cased, phone E.164 with var
-- default_country_code), consent as booleans, validated. reject_reason is null for
-- rows fit for staging; the first failing check wins.
{{ config(enabled=var('profile_sources') | length > 0) }}
{%- set declared_sources = var('profile_sources') %}
with

country_codes as (
    select * from {{ ref('country_codes') }}
),

{% for declared in declared_sources %}
{%- set columns = declared.columns -%}
{%- set account_type = columns.account_id.identifier_type -%}
{{ declared.name }}_raw as (
    {{ lw_declared_read(declared) }}
),

{{ declared.name }}_typed as (
    select
        '{{ declared.name }}' as source,
        {{ lw_normalize_identifier(lw_mapped(columns.account_id), account_type, 'country_codes') }} as account_id,
        {{ lw_mapped_identifier(columns.account_id, calling_codes='country_codes') }} as account_identifier,
        {{ lw_mapped_identifier_is_malformed(columns.account_id, calling_codes='country_codes') }}
            as is_malformed_account_id,
        {% if columns.get('referred_by') -%}
        {%- set referrer = {'identifier_type': account_type} -%}
        {%- do referrer.update(columns.referred_by) -%}
        {%- do referrer.update({'identifier_type': account_type}) -%}
        {{ lw_mapped_identifier(referrer, calling_codes='country_codes') }} as referred_by_identifier,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as referred_by_identifier,
        {%- endif %}
        {{ lw_mapped_timestamp(columns.updated_at) }} as updated_at,
        cast({{ lw_mapped_timestamp(columns.get('signup_at')) }} as date) as signup_date,
        {{ lw_normalize_email(lw_mapped(columns.get('email')) or 'null') }} as email,
        {{ lw_mapped(columns.get('phone')) or 'cast(null as ' ~ dbt.type_string() ~ ')' }} as phone_raw,
        {{ lw_normalize_phone(lw_mapped(columns.get('phone')) or 'null',
            "(select calling_code from country_codes where country_code = '" ~ var('default_country_code') ~ "')") }}
            as phone_e164,
        upper({{ lw_mapped(columns.get('country_code')) or 'null' }}) as country_code,
        {{ lw_mapped_boolean(columns.get('consent_email')) }} as has_consent_email,
        {{ lw_mapped_boolean(columns.get('consent_sms')) }} as has_consent_sms,
        {{ lw_mapped_boolean(columns.get('consent_push')) }} as has_consent_push,
        {{ lw_mapped_boolean(columns.get('consent_whatsapp')) }} as has_consent_whatsapp,
        {{ lw_mapped_boolean(columns.get('account_closed')) }} as is_account_closed,
        {{ lw_columns_to_json('raw', declared.options.columns) }} as raw_json
    from {{ declared.name }}_raw as raw
),

{% endfor %}
unioned as (
    {% for declared in declared_sources %}
    select * from {{ declared.name }}_typed
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

validated as (
    select
        unioned.*,
        -- a profile without a load time counts as loaded when it was last updated
        unioned.updated_at as loaded_at,
        case
            when unioned.account_identifier is null then 'missing_account_id'
            when unioned.is_malformed_account_id then 'malformed_identifier'
            when unioned.email is not null and not {{ lw_is_valid_id('unioned.email', 'email') }}
                then 'malformed_email'
            when unioned.updated_at is null then 'unparseable_timestamp'
            when {{ lw_is_before_min_event_date('unioned.signup_date') }} then 'timestamp_before_min_event_date'
        end as reject_reason
    from unioned
),

-- the raw row is kept for rejected rows only (quarantine); record_hash breaks ties
final as (
    select
        source,
        account_id,
        account_identifier,
        is_malformed_account_id,
        referred_by_identifier,
        updated_at,
        loaded_at,
        signup_date,
        email,
        phone_raw,
        phone_e164,
        country_code,
        has_consent_email,
        has_consent_sms,
        has_consent_push,
        has_consent_whatsapp,
        is_account_closed,
        reject_reason,
        md5(raw_json) as record_hash,
        case when reject_reason is not null then raw_json end as raw_record
    from validated
)

select * from final
