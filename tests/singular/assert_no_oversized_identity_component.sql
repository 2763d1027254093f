{{ config(severity='warn') }}
-- The component guard at work (a warning, not a failure: nothing is merged wrongly
-- and nothing is lost). One row per connected component of accepted links with more
-- identifiers than var identity_max_identifiers_per_component: int_identity__person_map
-- keeps its identifiers apart (each a person of its own) and
-- int_identity__excluded_links lists its links. Usually a chain of customers joined by
-- identifiers each shared by a few of them (every one under its neighbour limit): list
-- the bridging identifiers in seeds/identity_exclusions.csv, and the rest merges.
with

components as (
    select * from {{ ref('int_identity__components') }}
)

select
    component_root,
    component_identifiers,
    {{ var('identity_max_identifiers_per_component') }} as max_identifiers_per_component
from components
where
    identifier = component_root
    and is_in_oversized_component
