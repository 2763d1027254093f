-- One row per referral: a CRM customer who signed up naming another customer as
-- referrer, resolved to the referrer's person. Drives the AARRR `referral` stage.
{% if var('dataset') == 'cdnow' %}
select
    cast(null as {{ dbt.type_string() }}) as referrer_person_id,
    cast(null as {{ dbt.type_string() }}) as referred_person_id,
    cast(null as date) as referral_date
where 1 = 0
{% else %}
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

final as (
    select
        referrer.person_id as referrer_person_id,
        referred.person_id as referred_person_id,
        customers.signup_date as referral_date
    from customers
    inner join person_map as referrer
        on 'user:' || customers.referred_by_user_id = referrer.identifier
    inner join person_map as referred
        on 'user:' || customers.user_id = referred.identifier
    where referrer.person_id <> referred.person_id
)

select * from final
{% endif %}
