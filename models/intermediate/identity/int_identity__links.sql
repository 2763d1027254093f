-- One row per identifier pair observed together (see int_identity__co_occurrences)
-- with the over-merge guard applied: exclusion_reason is set when either end is
-- a shared or listed identifier (int_identity__identifiers). Only links without
-- an exclusion_reason join identifiers into one person.
with

co_occurrences as (
    select * from {{ ref('int_identity__co_occurrences') }}
),

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

final as (
    select
        co_occurrences.identifier_a,
        co_occurrences.identifier_b,
        co_occurrences.link_sources,
        co_occurrences.first_seen_at,
        co_occurrences.observations,
        coalesce(
            case
                when identifier_a.exclusion_reason is not null
                    then co_occurrences.identifier_a || ': ' || identifier_a.exclusion_reason
            end,
            case
                when identifier_b.exclusion_reason is not null
                    then co_occurrences.identifier_b || ': ' || identifier_b.exclusion_reason
            end,
            case
                when not identifier_a.links_persons
                    then co_occurrences.identifier_a || ': its type does not link persons (identifier_types)'
            end,
            case
                when not identifier_b.links_persons
                    then co_occurrences.identifier_b || ': its type does not link persons (identifier_types)'
            end
        ) as exclusion_reason,
        identifier_a.exclusion_reason is null and identifier_b.exclusion_reason is null
        and identifier_a.links_persons and identifier_b.links_persons as is_accepted
    from co_occurrences
    inner join identifiers as identifier_a
        on co_occurrences.identifier_a = identifier_a.identifier
    inner join identifiers as identifier_b
        on co_occurrences.identifier_b = identifier_b.identifier
)

select * from final
