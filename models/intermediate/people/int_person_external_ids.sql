-- One row per person with the id a marketing tool keys on: the smallest non-excluded
-- identifier of the first type in var external_id_types that the person has (the
-- demo: `user`, the source's own account id; declared transaction sources:
-- `customer`), without its type prefix. Persons with no such identifier (cookie-only
-- visitors) have no row. It is the key of the campaign holdout (lw_holdout_unit), so
-- a control group survives an identity merge that changes the person_id, and the id
-- an export row carries; it is never published to BI (restricted_person_contacts).
with

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

candidates as (
    select
        person_id,
        identifier_type as external_id_type,
        substr(identifier, {{ dbt.length('identifier_type') }} + 2) as external_id,
        case identifier_type
            {% for identifier_type in var('external_id_types') -%}
            when '{{ identifier_type }}' then {{ loop.index }}
            {% endfor -%}
        end as type_preference
    from person_map
    where
        not is_excluded_identifier
        and identifier_type in ({{ "'" ~ var('external_id_types') | join("', '") ~ "'" }})
),

ranked as (
    select
        person_id,
        external_id_type,
        external_id,
        row_number() over (
            partition by person_id
            order by type_preference asc, external_id asc
        ) as preference_rank
    from candidates
),

final as (
    select
        person_id,
        external_id,
        external_id_type
    from ranked
    where preference_rank = 1
)

select * from final
