-- The sign-ups of the declared profile files (stg_profiles__accounts) as contract
-- events, keyed to the account identifier.
-- One source's part of stg_contract__events (the union, whose YAML documents the
-- columns); in the build only when the source is.
{{ config(enabled=var('profile_sources') | length > 0) }}
with

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

declared_accounts as (
    select * from {{ ref('stg_profiles__accounts') }}
),

-- an account with a signup date is a sign-up event, as a CRM profile is
final as (
    select
        declared_accounts.source || ':' || declared_accounts.account_identifier as event_key,
        declared_accounts.source,
        declared_accounts.account_identifier as identifier,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        cast(declared_accounts.signup_date as timestamp) as event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        declared_accounts.loaded_at,
        -- profiles have no load time: re-read every build
        {{ lw_run_started_at() }} as changed_at,
        false as is_late_arriving,
        false as is_append_only
    from declared_accounts
    inner join taxonomy
        on
            taxonomy.source = 'profiles'
            and taxonomy.source_event_name = 'signup'
    where declared_accounts.signup_date is not null
)

select * from final
