-- One row per person known to the CRM or messaging: consent per channel, whether the
-- person can be reached there (consent, an address, no unsubscribe, account open),
-- and opted_out_date: the day from which no channel can reach the person (account
-- closed, or unsubscribed from every channel they had consented to). Input of the
-- `churned` rule and of dim_customers.
with

customers as (
    select * from {{ ref('stg_contract__customer_profiles') }}
),

events as (
    select * from {{ ref('int_events_unioned') }}
),

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

customer_persons as (
    select
        person_map.person_id,
        max(case when customers.has_consent_email then 1 else 0 end) = 1 as has_consent_email,
        max(case when customers.has_consent_sms then 1 else 0 end) = 1 as has_consent_sms,
        max(case when customers.has_consent_push then 1 else 0 end) = 1 as has_consent_push,
        max(case when customers.has_consent_whatsapp then 1 else 0 end) = 1 as has_consent_whatsapp,
        max(case when customers.phone_hash is not null then 1 else 0 end) = 1 as has_phone,
        min(case when customers.is_account_closed then 1 else 0 end) = 1 as is_account_closed,
        max(cast(customers.updated_at as date)) as crm_updated_date
    from customers
    inner join person_map
        on customers.account_identifier = person_map.identifier
    group by person_map.person_id
),

unsubscribes as (
    select
        events.person_id,
        {% for channel in ['email', 'sms', 'push', 'whatsapp'] -%}
        min(case when events.channel = '{{ channel }}' then events.event_date end)
            as unsubscribed_{{ channel }}_date,
        {% endfor -%}
        max(events.event_date) as last_unsubscribed_date
    from events
    cross join as_of
    where
        events.event_name = 'unsubscribed'
        and events.person_id is not null
        and events.event_date <= as_of.as_of_date
    group by events.person_id
),

persons_with_devices as (
    select distinct person_id
    from person_map
    where identifier_type = 'device'
),

reachability as (
    select
        customer_persons.person_id,
        customer_persons.has_consent_email,
        customer_persons.has_consent_sms,
        customer_persons.has_consent_push,
        customer_persons.has_consent_whatsapp,
        customer_persons.is_account_closed,
        customer_persons.crm_updated_date,
        unsubscribes.last_unsubscribed_date,
        customer_persons.has_consent_email
        and unsubscribes.unsubscribed_email_date is null
        and not customer_persons.is_account_closed as is_reachable_email,
        customer_persons.has_consent_sms
        and customer_persons.has_phone
        and unsubscribes.unsubscribed_sms_date is null
        and not customer_persons.is_account_closed as is_reachable_sms,
        customer_persons.has_consent_push
        and persons_with_devices.person_id is not null
        and unsubscribes.unsubscribed_push_date is null
        and not customer_persons.is_account_closed as is_reachable_push,
        customer_persons.has_consent_whatsapp
        and customer_persons.has_phone
        and unsubscribes.unsubscribed_whatsapp_date is null
        and not customer_persons.is_account_closed as is_reachable_whatsapp
    from customer_persons
    left join unsubscribes
        on customer_persons.person_id = unsubscribes.person_id
    left join persons_with_devices
        on customer_persons.person_id = persons_with_devices.person_id
),

final as (
    select
        person_id,
        has_consent_email,
        has_consent_sms,
        has_consent_push,
        has_consent_whatsapp,
        is_account_closed,
        coalesce(is_reachable_email, false) as is_reachable_email,
        coalesce(is_reachable_sms, false) as is_reachable_sms,
        coalesce(is_reachable_push, false) as is_reachable_push,
        coalesce(is_reachable_whatsapp, false) as is_reachable_whatsapp,
        case
            when is_account_closed then crm_updated_date
            when
                not coalesce(is_reachable_email, false) and not coalesce(is_reachable_sms, false)
                and not coalesce(is_reachable_push, false) and not coalesce(is_reachable_whatsapp, false)
                and last_unsubscribed_date is not null
                then last_unsubscribed_date
        end as opted_out_date,
        case
            when is_account_closed then 'account closed'
            when
                not coalesce(is_reachable_email, false) and not coalesce(is_reachable_sms, false)
                and not coalesce(is_reachable_push, false) and not coalesce(is_reachable_whatsapp, false)
                and last_unsubscribed_date is not null
                then 'unsubscribed from every consented channel'
        end as opt_out_reason
    from reachability
)

select * from final
