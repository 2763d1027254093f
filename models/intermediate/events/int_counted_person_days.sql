-- One row per person and UTC day of int_person_days, for the persons the metrics count:
-- persons made only of excluded identifiers (kiosk ids, test accounts;
-- int_persons.is_only_excluded_identifiers) are left out, as in every mart. The one
-- place of that rule for the activity marts (fct_growth_accounting and its daily and
-- weekly siblings, fct_cohort_retention). A view: a filter, stored nowhere.
{{ config(materialized='view') }}
with

persons as (
    select * from {{ ref('int_persons') }}
),

person_days as (
    select * from {{ ref('int_person_days') }}
),

final as (
    select person_days.*
    from person_days
    inner join persons
        on person_days.person_id = persons.person_id
    where not persons.is_only_excluded_identifiers
)

select * from final
