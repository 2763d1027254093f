-- One row per person an audience may hold (fct_audience_membership): every person not
-- made only of excluded identifiers, with the key their campaign holdout is drawn on
-- (their external id, int_person_external_ids, else their person_id) and whether each
-- channel reaches them (int_person_contactability; false when nothing is known).
-- A view, computed with fct_audience_membership: no table of its own to store or gate.
{{ config(materialized='view') }}
with

persons as (
    select * from {{ ref('int_persons') }}
    where not is_only_excluded_identifiers
),

external_ids as (
    select * from {{ ref('int_person_external_ids') }}
),

contactability as (
    select * from {{ ref('int_person_contactability') }}
),

final as (
    select
        persons.person_id,
        coalesce(external_ids.external_id, persons.person_id) as holdout_key,
        coalesce(contactability.is_reachable_email, false) as is_reachable_email,
        coalesce(contactability.is_reachable_sms, false) as is_reachable_sms,
        coalesce(contactability.is_reachable_push, false) as is_reachable_push,
        coalesce(contactability.is_reachable_whatsapp, false) as is_reachable_whatsapp
    from persons
    left join external_ids
        on persons.person_id = external_ids.person_id
    left join contactability
        on persons.person_id = contactability.person_id
)

select * from final
