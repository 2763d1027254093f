-- One row per person: when the person was first and last seen on any source,
-- how many identifiers they have, and which sources / channels know them.
-- The spine every later model joins to.
-- is_known_to_<source> flags name the built-in demo sources (false for the others);
-- sources lists every source, declared ones included.
with

person_map as (
    select * from {{ ref('int_identity__person_map') }}
),

observations as (
    select * from {{ ref('int_identity__observations') }}
),

person_sources as (
    select
        person_map.person_id,
        observations.source,
        min(observations.first_seen_at) as first_seen_at,
        max(observations.last_seen_at) as last_seen_at
    from observations
    inner join person_map
        on observations.identifier = person_map.identifier
    group by person_map.person_id, observations.source
),

identifier_counts as (
    select
        person_id,
        count(*) as identifiers,
        count(case when is_excluded_identifier then 1 end) as excluded_identifiers
    from person_map
    group by person_id
),

per_person as (
    select
        person_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(*) as source_count,
        {% for source in ['web', 'app', 'messaging', 'store_pos', 'online_orders', 'crm'] -%}
        max(case when source = '{{ source }}' then 1 else 0 end) = 1 as is_known_to_{{ source }},
        {% endfor -%}
        {{ lw_sorted_listagg('source') }} as sources
    from person_sources
    group by person_id
),

final as (
    select
        per_person.person_id,
        per_person.first_seen_at,
        per_person.last_seen_at,
        identifier_counts.identifiers,
        per_person.source_count,
        per_person.sources,
        per_person.is_known_to_web,
        per_person.is_known_to_app,
        per_person.is_known_to_messaging,
        per_person.is_known_to_store_pos,
        per_person.is_known_to_online_orders,
        per_person.is_known_to_crm,
        identifier_counts.excluded_identifiers = identifier_counts.identifiers as is_only_excluded_identifiers
    from per_person
    inner join identifier_counts
        on per_person.person_id = identifier_counts.person_id
)

select * from final
