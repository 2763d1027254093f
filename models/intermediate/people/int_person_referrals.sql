-- One row per referral: a CRM customer who signed up naming another customer as
-- referrer, resolved to the referrer's person. Drives the AARRR `referral` stage.
with

customers as (
    select * from {{ ref('stg_contract__customer_profiles') }}
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
        on customers.referred_by_identifier = referrer.identifier
    inner join person_map as referred
        on customers.account_identifier = referred.identifier
    where referrer.person_id <> referred.person_id
)

select * from final
