-- One row per person with an external id or a contact point: what an export
-- destination keys on. external_id is the source's own account id
-- (int_person_external_ids); email / phone_e164 are the raw contact points of the
-- person's primary account (int_person_profiles' hashes looked up in
-- restricted_contact_points). Restricted: `lw build` copies it to
-- restricted/<serving>.contacts.duckdb (mode 0600) next to the serving file, and
-- `lw export` sends a raw contact point only to a destination configured for it,
-- for a channel the person consented to (fct_audience_membership.is_reachable_*).
with

external_ids as (
    select * from {{ ref('int_person_external_ids') }}
),

profiles as (
    select * from {{ ref('int_person_profiles') }}
),

contact_points as (
    select * from {{ ref('restricted_contact_points') }}
),

emails as (
    select
        contact_hash,
        contact_value
    from contact_points
    where contact_type = 'email'
),

phones as (
    select
        contact_hash,
        contact_value
    from contact_points
    where contact_type = 'phone'
),

persons as (
    select person_id from external_ids
    union
    select person_id from profiles
),

final as (
    select
        persons.person_id,
        external_ids.external_id,
        external_ids.external_id_type,
        profiles.email_hash,
        emails.contact_value as email,
        profiles.phone_hash,
        phones.contact_value as phone_e164
    from persons
    left join external_ids
        on persons.person_id = external_ids.person_id
    left join profiles
        on persons.person_id = profiles.person_id
    left join emails
        on profiles.email_hash = emails.contact_hash
    left join phones
        on profiles.phone_hash = phones.contact_hash
)

select * from final
