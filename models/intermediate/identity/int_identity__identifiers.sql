-- One row per identifier: type, when and where it was seen, how many distinct
-- identifiers of each other type it is linked to, and the over-merge guard's
-- verdict. exclusion_reason is set for identifiers listed in
-- seeds/identity_exclusions.csv and for shared identifiers (linked to more than
-- its type's max_neighbours_per_type (var identifier_types) identifiers of one type, e.g. a kiosk
-- cookie used by dozens of user ids). Excluded identifiers keep their own
-- person but link to nobody.
with

observations as (
    select * from {{ ref('int_identity__observations') }}
),

co_occurrences as (
    select * from {{ ref('int_identity__co_occurrences') }}
),

exclusion_list as (
    select * from {{ ref('identity_exclusions') }}
),

identifiers_seen as (
    select
        identifier,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        cast(sum(sightings) as {{ dbt.type_bigint() }}) as sightings,
        {{ lw_sorted_listagg('source') }} as sources
    from observations
    group by identifier
),

neighbours as (
    select
        identifier_a as identifier,
        identifier_b as neighbour
    from co_occurrences
    union all
    select
        identifier_b as identifier,
        identifier_a as neighbour
    from co_occurrences
),

neighbours_per_type as (
    select
        identifier,
        {{ lw_identifier_type('neighbour') }} as neighbour_type,
        count(*) as neighbour_count
    from neighbours
    group by identifier, {{ lw_identifier_type('neighbour') }}
),

busiest_neighbour_type as (
    select
        identifier,
        neighbour_type,
        neighbour_count,
        cast(sum(neighbour_count) over (partition by identifier) as {{ dbt.type_bigint() }}) as total_neighbours,
        row_number() over (
            partition by identifier order by neighbour_count desc, neighbour_type asc
        ) as busiest_rank
    from neighbours_per_type
),

listed as (
    select
        case exclusion_list.identifier_type
            when 'email' then {{ lw_typed_identifier_of_type_column(
                "'email'", lw_sha256(lw_normalize_email('exclusion_list.identifier_value'))
            ) }}
            when 'phone' then {{ lw_typed_identifier_of_type_column(
                "'phone'", lw_sha256('trim(exclusion_list.identifier_value)')
            ) }}
            else {{ lw_typed_identifier_of_type_column(
                'exclusion_list.identifier_type', 'trim(exclusion_list.identifier_value)'
            ) }}
        end as identifier,
        exclusion_list.reason
    from exclusion_list
),

final as (
    select
        identifiers_seen.identifier,
        {{ lw_identifier_type('identifiers_seen.identifier') }} as identifier_type,
        {%- set identifier_type = lw_identifier_type('identifiers_seen.identifier') %}
        coalesce({{ lw_identifier_type_setting(identifier_type, 'links_persons') }}, false) as links_persons,
        identifiers_seen.first_seen_at,
        identifiers_seen.last_seen_at,
        identifiers_seen.sightings,
        identifiers_seen.sources,
        coalesce(busiest_neighbour_type.total_neighbours, 0) as linked_identifiers,
        busiest_neighbour_type.neighbour_type as busiest_neighbour_type,
        coalesce(busiest_neighbour_type.neighbour_count, 0) as busiest_neighbour_count,
        case
            when listed.identifier is not null then 'listed in identity_exclusions: ' || listed.reason
            when
                busiest_neighbour_type.neighbour_count
                > {{ lw_identifier_type_setting(identifier_type, 'max_neighbours_per_type') }}
                then
                    'shared: linked to '
                    || cast(busiest_neighbour_type.neighbour_count as {{ dbt.type_string() }})
                    || ' ' || busiest_neighbour_type.neighbour_type || ' identifiers (max '
                    || cast(
                        {{ lw_identifier_type_setting(identifier_type, 'max_neighbours_per_type') }}
                        as {{ dbt.type_string() }}
                    )
                    || ')'
        end as exclusion_reason
    from identifiers_seen
    left join busiest_neighbour_type
        on
            identifiers_seen.identifier = busiest_neighbour_type.identifier
            and busiest_neighbour_type.busiest_rank = 1
    left join listed
        on identifiers_seen.identifier = listed.identifier
)

select * from final
