-- One row per person with at least one CRM customer record: the CRM attributes marts
-- need (country, signup date, email / phone hashes), so marts never read staging.
-- A person merged from several CRM accounts takes them from the primary account: the
-- earliest signup_date, then the smallest user_id (deterministic). Only hashes of
-- contact data: raw email / phone never leave staging.
-- The dataset switch wraps the whole model; its body is not indented under it:
{% if var('dataset') == 'cdnow' %}
select
    cast(null as {{ dbt.type_string() }}) as person_id,
    cast(null as {{ dbt.type_bigint() }}) as crm_accounts,
    cast(null as {{ dbt.type_string() }}) as primary_user_id,
    cast(null as {{ dbt.type_string() }}) as country_code,
    cast(null as date) as signup_date,
    cast(null as {{ dbt.type_string() }}) as email_hash,
    cast(null as {{ dbt.type_string() }}) as phone_hash
where 1 = 0
{% else %}
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

customer_persons as (
    select
        person_map.person_id,
        customers.user_id,
        customers.country_code,
        customers.signup_date,
        customers.email_hash,
        customers.phone_hash,
        count(*) over (partition by person_map.person_id) as crm_accounts,
        row_number() over (
            partition by person_map.person_id
            order by customers.signup_date, customers.user_id
        ) as account_rank
    from customers
    inner join person_map
        on 'user:' || customers.user_id = person_map.identifier
),

final as (
    select
        person_id,
        cast(crm_accounts as {{ dbt.type_bigint() }}) as crm_accounts,
        user_id as primary_user_id,
        country_code,
        signup_date,
        email_hash,
        phone_hash
    from customer_persons
    where account_rank = 1
)

select * from final
{% endif %}
