-- One row per identifier with its person_id. person_id is the md5 of the
-- component's smallest identifier: the same data always gives the same ids, on
-- any engine. Staging rows reach a person by looking up any of their identifiers.
-- The component guard: a component of more identifiers than var
-- identity_max_identifiers_per_component (e.g. a chain of customers joined by
-- cookies each shared by two of them; int_identity__components'
-- is_in_oversized_component) is not one person. Its identifiers are not
-- merged: each is a person of its own (named after itself), and its links are
-- listed in int_identity__excluded_links with the reason.
with

components as (
    select * from {{ ref('int_identity__components') }}
),

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

guarded as (
    select
        identifier,
        is_in_oversized_component,
        case
            when is_in_oversized_component then identifier
            else component_root
        end as person_root
    from components
),

final as (
    select
        guarded.identifier,
        identifiers.identifier_type,
        {{ dbt.hash('guarded.person_root') }} as person_id,
        guarded.person_root as component_root,
        identifiers.exclusion_reason is not null as is_excluded_identifier,
        guarded.is_in_oversized_component
    from guarded
    inner join identifiers
        on guarded.identifier = identifiers.identifier
)

select * from final
