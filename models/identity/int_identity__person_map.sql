-- One row per identifier with its person_id. person_id is the md5 of the
-- component's smallest identifier: the same data always gives the same ids, on
-- any engine. Staging rows reach a person by looking up any of their identifiers.
with

components as (
    select * from {{ ref('int_identity__components') }}
),

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

final as (
    select
        components.identifier,
        identifiers.identifier_type,
        {{ dbt.hash('components.component_root') }} as person_id,
        components.component_root,
        identifiers.exclusion_reason is not null as is_excluded_identifier
    from components
    inner join identifiers
        on components.identifier = identifiers.identifier
)

select * from final
