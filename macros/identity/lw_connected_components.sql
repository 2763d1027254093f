{#-
    Connected components of an undirected graph, exact for paths of any length.

    Min-label propagation with pointer jumping, iterated until no label changes:
      1. every node starts with its own id as label;
      2. each pass a node takes the smallest label among itself and its neighbours,
         then jumps to the label of that label (pointer jumping, so long chains
         converge in O(log length) passes instead of O(length));
      3. when a pass changes nothing, every edge joins equal labels, so each
         component carries one label: its smallest node id (the minimum can never be
         replaced, labels only come from inside the component).
    A fixed number of passes would not be exact, so the loop runs to convergence and
    fails loudly if `max_iterations` is reached first.

    Runs at execution time with run_query and two work tables beside the model
    (`<model>__cc_a` / `__cc_b`) plus `<model>__cc_edges`; returns the relation
    holding (node, component_root, passes), passes being the number of passes the
    loop needed. Call lw_connected_components_cleanup() in a
    post-hook to drop the work tables.

    nodes_sql: a select / relation with column `node`
    edges_sql: a select / relation with columns `node_a`, `node_b`
-#}
{% macro lw_connected_components(nodes_sql, edges_sql, max_iterations) -%}
    {#- Only `dbt run` / `dbt build` execute the loop; parsing, `dbt compile`,
        docs and sqlfluff get a placeholder with the same columns. -#}
    {%- if not execute or flags.WHICH not in ('run', 'build') -%}
        {{ return("(select node, node as component_root, 0 as passes from " ~ nodes_sql ~ ") as components_not_executed") }}
    {%- endif -%}

    {%- set work = lw_connected_components_work_relations() -%}
    {%- do adapter.drop_relation(work.edges) -%}
    {%- do adapter.drop_relation(work.labels[0]) -%}
    {%- do adapter.drop_relation(work.labels[1]) -%}

    {%- set directed_edges_sql -%}
        select node_a as src, node_b as dst from {{ edges_sql }} as edges_ab
        union
        select node_b as src, node_a as dst from {{ edges_sql }} as edges_ba
    {%- endset -%}
    {%- do run_query(dbt.create_table_as(false, work.edges, directed_edges_sql)) -%}

    {%- set initial_labels_sql -%}
        select distinct node, node as label from {{ nodes_sql }} as nodes
    {%- endset -%}
    {%- do run_query(dbt.create_table_as(false, work.labels[0], initial_labels_sql)) -%}

    {%- set state = namespace(current=0, converged=false, passes=0) -%}
    {%- for pass_number in range(1, max_iterations + 1) if not state.converged -%}
        {%- set current = work.labels[state.current] -%}
        {%- set following = work.labels[1 - state.current] -%}
        {%- set propagate_sql -%}
            with

            candidates as (
                select node, label from {{ current }}
                union all
                select
                    edges.dst as node,
                    labels.label
                from {{ work.edges }} as edges
                inner join {{ current }} as labels
                    on edges.src = labels.node
            ),

            propagated as (
                select
                    node,
                    min(label) as label
                from candidates
                group by node
            )

            select
                propagated.node,
                least(propagated.label, coalesce(jumped.label, propagated.label)) as label
            from propagated
            left join propagated as jumped
                on propagated.label = jumped.node
        {%- endset -%}
        {%- do adapter.drop_relation(following) -%}
        {%- do run_query(dbt.create_table_as(false, following, propagate_sql)) -%}
        {%- set changed_sql -%}
            select count(*) as changed
            from {{ following }} as after_pass
            inner join {{ current }} as before_pass
                on after_pass.node = before_pass.node
            where after_pass.label <> before_pass.label
        {%- endset -%}
        {%- set changed = run_query(changed_sql).columns[0].values()[0] | int -%}
        {%- do log("connected components: pass " ~ pass_number ~ ", " ~ changed ~ " labels changed", info=true) -%}
        {%- set state.current = 1 - state.current -%}
        {%- set state.passes = pass_number -%}
        {%- if changed == 0 -%}
            {%- set state.converged = true -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if not state.converged -%}
        {{ exceptions.raise_compiler_error(
            "Connected components did not converge within " ~ max_iterations ~ " passes. "
            ~ "Raise the var identity_max_iterations (each pass at least halves the "
            ~ "longest unresolved chain, so this points at a graph problem)."
        ) }}
    {%- endif -%}
    {{ return("(select node, label as component_root, " ~ state.passes ~ " as passes from " ~ work.labels[state.current] ~ ") as components") }}
{%- endmacro %}
