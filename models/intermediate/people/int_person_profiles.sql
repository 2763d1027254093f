-- One row per person with at least one CRM customer record: the CRM attributes marts
-- need (country, signup date, email / phone hashes), so marts never read staging.
-- A person merged from several CRM accounts takes them from the primary account: the
-- earliest signup_date, then the smallest user_id (deterministic). Only hashes of
-- contact data: raw email / phone never leave staging.
with

customers as (
    select * from {{ ref('stg_contract__customer_profiles') }}
),

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

customer_persons as (
    select
        person_map.person_id,
        customers.account_id,
        customers.country_code,
        customers.signup_date,
        customers.email_hash,
        customers.phone_hash,
        count(*) over (partition by person_map.person_id) as crm_accounts,
        row_number() over (
            partition by person_map.person_id
            order by customers.signup_date, customers.account_id
        ) as account_rank
    from customers
    inner join person_map
        on customers.account_identifier = person_map.identifier
),

final as (
    select
        person_id,
        cast(crm_accounts as {{ dbt.type_bigint() }}) as crm_accounts,
        account_id as primary_user_id,
        country_code,
        signup_date,
        email_hash,
        phone_hash
    from customer_persons
    where account_rank = 1
)

select * from final
