-- One row per identifier with the component it belongs to: the connected
-- components of the accepted identity links, computed exactly (hooking with
-- pointer jumping to convergence, O(log n) passes for any chain length) by
-- lw_connected_components. component_root is the smallest identifier of the
-- component, so the result does not depend on row order or engine.
-- component_identifiers is the component's size, and is_in_oversized_component the
-- component guard's verdict (over var identity_max_identifiers_per_component):
-- int_identity__person_map does not merge such a component.
--
-- Incremental (DECISIONLOG "Incremental identity"): a run recomputes only the
-- components a change touches and writes their rows (delete+insert on identifier).
-- A component is touched when
--   * an accepted link joins it to another component or to a new identifier (a
--     merge),
--   * one of its identifiers changed linkability (became excluded or linkable
--     again: its links stop or start counting, so the component can split or grow),
--   * or its guard verdict changed (the var was changed).
-- The recomputed identifiers are the touched components' and the new ones; every
-- accepted link with one end among them has its other end among them too (an end
-- outside would lie in an untouched old component other than its partner's, which
-- makes the link a merge, so that component is touched), so the recomputation over
-- them alone is exact. A full refresh computes every component.
{{ config(
    materialized=lw_upsert_materialization(),
    unique_key='identifier',
    incremental_strategy=lw_upsert_strategy(),
    on_schema_change='fail',
    post_hook=["{{ lw_connected_components_cleanup() }}"]
) }}

{%- set identifiers_relation = ref('int_identity__identifiers') %}
{%- set links_relation = ref('int_identity__links') %}
{%- set max_identifiers = var('identity_max_identifiers_per_component') %}

{#- the identifiers whose components this run computes: all of them on a full refresh -#}
{%- set recomputed_identifiers_sql = "(select identifier as node from " ~ identifiers_relation ~ ")" %}
{%- if is_incremental() %}
{%- set recomputed_identifiers_sql -%}
    (
        with

        identifiers as (
            select
                identifier,
                exclusion_reason is null and links_persons as is_linkable
            from {{ identifiers_relation }}
        ),

        previous as (
            select * from {{ this }}
        ),

        accepted_links as (
            select identifier_a, identifier_b from {{ links_relation }}
            where is_accepted
        ),

        merging_links as (
            select
                previous_a.component_root as root_a,
                previous_b.component_root as root_b
            from accepted_links
            left join previous as previous_a
                on accepted_links.identifier_a = previous_a.identifier
            left join previous as previous_b
                on accepted_links.identifier_b = previous_b.identifier
            where previous_a.component_root is distinct from previous_b.component_root
        ),

        touched_roots as (
            select root_a as component_root from merging_links
            union
            select root_b as component_root from merging_links
            union
            select previous.component_root
            from previous
            inner join identifiers
                on previous.identifier = identifiers.identifier
            where previous.is_linkable <> identifiers.is_linkable
            union
            select component_root from previous
            where is_in_oversized_component <> (component_identifiers > {{ max_identifiers }})
        )

        select identifiers.identifier as node
        from identifiers
        left join previous
            on identifiers.identifier = previous.identifier
        where
            previous.identifier is null
            or previous.component_root in (
                select touched_roots.component_root from touched_roots
                where touched_roots.component_root is not null
            )
    )
{%- endset %}
{%- endif %}

with

components as (
    select * from {{ lw_connected_components(
        nodes_sql=recomputed_identifiers_sql,
        edges_sql="(select identifier_a as node_a, identifier_b as node_b from "
            ~ links_relation ~ " where is_accepted and identifier_a in "
            ~ recomputed_identifiers_sql ~ ")",
        max_iterations=var('identity_max_iterations')
    ) }}
),

identifiers as (
    select * from {{ identifiers_relation }}
),

sized as (
    select
        node as identifier,
        component_root,
        cast(count(*) over (partition by component_root) as {{ dbt.type_bigint() }}) as component_identifiers,
        passes as propagation_passes
    from components
),

final as (
    select
        sized.identifier,
        sized.component_root,
        sized.component_identifiers,
        sized.component_identifiers > {{ max_identifiers }} as is_in_oversized_component,
        identifiers.exclusion_reason is null and identifiers.links_persons as is_linkable,
        sized.propagation_passes,
        {{ lw_run_started_at() }} as dbt_updated_at
    from sized
    inner join identifiers
        on sized.identifier = identifiers.identifier
)

select * from final
