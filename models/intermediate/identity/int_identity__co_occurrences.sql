-- One row per pair of identifiers observed together on one record (a login, a
-- checkout, a CRM profile, a till receipt), stored once with identifier_a <
-- identifier_b, with the sources that saw the pair. Raw evidence for the
-- identity graph, before the over-merge guard.
with

co_occurrences as (
    select * from {{ ref('stg_contract__identifier_links') }}
),

undirected as (
    select
        source,
        seen_at,
        case when left_identifier < right_identifier then left_identifier else right_identifier end as identifier_a,
        case when left_identifier < right_identifier then right_identifier else left_identifier end as identifier_b
    from co_occurrences
),

pairs_per_source as (
    select
        identifier_a,
        identifier_b,
        source,
        min(seen_at) as first_seen_at,
        count(*) as observations
    from undirected
    group by identifier_a, identifier_b, source
),

pairs as (
    select
        identifier_a,
        identifier_b,
        {{ lw_sorted_listagg('source') }} as link_sources,
        min(first_seen_at) as first_seen_at,
        cast(sum(observations) as {{ dbt.type_bigint() }}) as observations
    from pairs_per_source
    group by identifier_a, identifier_b
),

final as (
    select * from pairs
)

select * from final
