{{ config(post_hook=["{{ lw_connected_components_cleanup() }}"]) }}
-- One row per identifier with the component it belongs to: the connected
-- components of the accepted identity links, computed exactly (hooking with
-- pointer jumping to convergence, O(log n) passes for any chain length) by
-- lw_connected_components. component_root is the smallest identifier of the
-- component, so the result does not depend on row order or engine.
-- component_identifiers is the component's size: int_identity__person_map does not
-- merge a component over var identity_max_identifiers_per_component.
with

components as (
    select * from {{ lw_connected_components(
        nodes_sql="(select identifier as node from " ~ ref('int_identity__identifiers') ~ ")",
        edges_sql="(select identifier_a as node_a, identifier_b as node_b from "
            ~ ref('int_identity__links') ~ " where is_accepted)",
        max_iterations=var('identity_max_iterations')
    ) }}
),

final as (
    select
        node as identifier,
        component_root,
        cast(count(*) over (partition by component_root) as {{ dbt.type_bigint() }}) as component_identifiers,
        passes as propagation_passes
    from components
)

select * from final
