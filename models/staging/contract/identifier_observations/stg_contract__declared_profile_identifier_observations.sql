-- The identifiers an account of the declared profile files (stg_profiles__accounts)
-- carries: the account identifier, the email and the phone (when given).
-- One source's part of stg_contract__identifier_observations (the union, whose YAML
-- documents the columns); in the build only when the source is.
{{ config(enabled=var('profile_sources') | length > 0) }}
with

declared_accounts as (
    select * from {{ ref('stg_profiles__accounts') }}
),

final as (
    select
        source,
        account_identifier as identifier,
        updated_at as seen_at
    from declared_accounts
    union all
    select
        source,
        {{ lw_typed_identifier('email', 'email_hash') }} as identifier,
        updated_at as seen_at
    from declared_accounts
    where email_hash is not null
    union all
    select
        source,
        {{ lw_typed_identifier('phone', 'phone_hash') }} as identifier,
        updated_at as seen_at
    from declared_accounts
    where phone_hash is not null
)

select * from final
