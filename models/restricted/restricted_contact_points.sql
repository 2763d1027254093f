-- One row per contact point hash with the raw contact point behind it: the
-- normalised email / E.164 phone of every valid customer-account row of the profile
-- sources (the demo's CRM, declared profile sources). Staging and everything after it
-- keep only the hashes (lw_hash_pii); this lookup turns a hash back into an address
-- for an export destination explicitly configured to receive it. Restricted: built
-- in the owner-only build database, never published to BI.
{%- set parts = [] %}
with

{% if lw_source_enabled('crm') -%}
{%- do parts.append('crm_accounts') %}
crm_customers as (
    select * from {{ ref('base_crm__customers') }}
    where reject_reason is null
),

crm_accounts as (
    select
        email,
        phone_e164
    from crm_customers
),

{% endif -%}
{% if var('profile_sources') -%}
{%- do parts.append('declared_accounts') %}
declared_profiles as (
    select * from {{ ref('base_profiles__accounts') }}
    where reject_reason is null
),

declared_accounts as (
    select
        email,
        phone_e164
    from declared_profiles
),

{% endif -%}
-- typed placeholder: a build without a profile source has no contact points
no_accounts as (
    select
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as phone_e164
    where 1 = 0
),

accounts as (
    select * from no_accounts
    {%- for part in parts %}
    union all
    select * from {{ part }}
    {%- endfor %}
),

contact_points as (
    select distinct
        'email' as contact_type,
        {{ lw_hash_pii('email') }} as contact_hash,
        email as contact_value
    from accounts
    where email is not null
    union all
    select distinct
        'phone' as contact_type,
        {{ lw_hash_pii('phone_e164') }} as contact_hash,
        phone_e164 as contact_value
    from accounts
    where phone_e164 is not null
),

final as (
    select
        contact_type,
        contact_hash,
        contact_value
    from contact_points
)

select * from final
