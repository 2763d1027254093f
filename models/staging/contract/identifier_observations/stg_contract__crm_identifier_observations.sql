-- The identifiers a CRM profile (stg_crm__customers) carries: the user id, the email
-- and the phone (when given), seen on the signup date.
-- One source's part of stg_contract__identifier_observations (the union, whose YAML
-- documents the columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('crm')) }}
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

final as (
    select
        'crm' as source,
        {{ lw_typed_identifier('user', 'user_id') }} as identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    union all
    select
        'crm' as source,
        {{ lw_typed_identifier('email', 'email_hash') }} as identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    union all
    select
        'crm' as source,
        {{ lw_typed_identifier('phone', 'phone_hash') }} as identifier,
        cast(signup_date as timestamp) as seen_at
    from customers
    where phone_hash is not null
)

select * from final
