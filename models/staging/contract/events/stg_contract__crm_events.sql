-- CRM sign-ups (stg_crm__customers), one event per customer, keyed to the user id.
-- One source's part of stg_contract__events (the union, whose YAML documents the
-- columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('crm')) }}
with

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

final as (
    select
        'crm:' || customers.user_id as event_key,
        'crm' as source,
        {{ lw_typed_identifier('user', 'customers.user_id') }} as identifier,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        cast(customers.signup_date as timestamp) as event_at,
        cast(null as {{ dbt.type_string() }}) as device,
        customers.loaded_at,
        customers.loaded_at as changed_at,
        false as is_late_arriving,
        false as is_append_only
    from customers
    inner join taxonomy
        on
            taxonomy.source = 'crm'
            and taxonomy.source_event_name = 'signup'
)

select * from final
