{#-
    Connected components of an undirected graph, exact for any shape, in O(log n)
    passes for a component of n nodes (a long chain included).

    Hooking with full shortcutting, on labels that always name a tree of nodes:
      1. every node starts as its own tree: label = its own id;
      2. each pass first hooks: every tree whose nodes have an edge to a tree with a
         smaller label moves, as a whole, to the smallest such label (all its nodes
         take the new label at once, not just the node holding the edge);
      3. then shortcuts: label := label of the label (pointer jumping), repeated
         until no label changes, so every node again points straight at the smallest
         node of its tree (hooks can chain: 9 -> 5 -> 2 -> 1 becomes 9 -> 1);
      4. a pass whose check finds no edge between two labels ends the loop: every
         component is one tree labelled by its smallest node (labels only ever move
         to smaller ids from inside the component, so the minimum is never replaced).
    Why O(log n): in one pass a tree hooks onto a neighbour, or a neighbour hooks onto
    it, or it is a smaller label than all its neighbours while every neighbour hooked
    elsewhere, onto an even smaller label; such a tree hooks in the next pass. So every
    two passes at least halve the trees of a component: at most 2 * ceil(log2 n) + 1
    passes (21 for 800 nodes), each with at most ceil(log2 n) pointer jumps. Plain
    min-label propagation moves a label one edge per pass instead: 543 passes on a
    chain of 400 customers linked by 399 random cookie ids (DECISIONLOG).
    A fixed number of passes would not be exact, so the loop runs to convergence and
    fails loudly if `max_iterations` passes (or jumps in one pass) are reached first,
    which the bound above makes a defect, never a long chain.

    Runs at execution time with run_query and two work tables beside the model
    (`<model>__cc_a` / `__cc_b`) plus `<model>__cc_edges`; returns the relation
    holding (node, component_root, passes), passes being the number of passes the
    loop needed (the last one finds nothing to hook). Call
    lw_connected_components_cleanup() in a post-hook to drop the work tables.

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

    {%- set state = namespace(current=0, converged=false, passes=0, jumps_failed=false) -%}
    {%- for pass_number in range(1, max_iterations + 1) if not state.converged and not state.jumps_failed -%}
        {%- set state.passes = pass_number -%}
        {%- set current = work.labels[state.current] -%}
        {%- set following = work.labels[1 - state.current] -%}

        {#- Every label names a tree (a star: each node points at its root). Trees
            that an edge still joins to a smaller label hook onto the smallest. -#}
        {%- set hooking_trees_sql -%}
            select count(distinct src_labels.label) as hooking_trees
            from {{ work.edges }} as edges
            inner join {{ current }} as src_labels
                on edges.src = src_labels.node
            inner join {{ current }} as dst_labels
                on edges.dst = dst_labels.node
            where dst_labels.label < src_labels.label
        {%- endset -%}
        {%- set hooking_trees = run_query(hooking_trees_sql).columns[0].values()[0] | int -%}
        {%- if hooking_trees == 0 -%}
            {%- do log("connected components: pass " ~ pass_number ~ ", nothing to hook: converged", info=true) -%}
            {%- set state.converged = true -%}
        {%- else -%}
            {%- set hook_sql -%}
                with

                hooks as (
                    select
                        src_labels.label as root,
                        min(dst_labels.label) as parent
                    from {{ work.edges }} as edges
                    inner join {{ current }} as src_labels
                        on edges.src = src_labels.node
                    inner join {{ current }} as dst_labels
                        on edges.dst = dst_labels.node
                    where dst_labels.label < src_labels.label
                    group by src_labels.label
                )

                select
                    labels.node,
                    coalesce(hooks.parent, labels.label) as label
                from {{ current }} as labels
                left join hooks
                    on labels.label = hooks.root
            {%- endset -%}
            {%- do adapter.drop_relation(following) -%}
            {%- do run_query(dbt.create_table_as(false, following, hook_sql)) -%}
            {%- set state.current = 1 - state.current -%}

            {#- Shortcutting: jump until every label is a root (points at itself). -#}
            {%- set jumps = namespace(done=false, count=0) -%}
            {%- for jump_number in range(1, max_iterations + 2) if not jumps.done -%}
                {%- set current = work.labels[state.current] -%}
                {%- set following = work.labels[1 - state.current] -%}
                {%- set pointing_sql -%}
                    select count(*) as pointing_at_non_roots
                    from {{ current }} as labels
                    inner join {{ current }} as parents
                        on labels.label = parents.node
                    where parents.label <> labels.label
                {%- endset -%}
                {%- if run_query(pointing_sql).columns[0].values()[0] | int == 0 -%}
                    {%- set jumps.done = true -%}
                {%- elif jump_number <= max_iterations -%}
                    {%- set jump_sql -%}
                        select
                            labels.node,
                            coalesce(parents.label, labels.label) as label
                        from {{ current }} as labels
                        left join {{ current }} as parents
                            on labels.label = parents.node
                    {%- endset -%}
                    {%- do adapter.drop_relation(following) -%}
                    {%- do run_query(dbt.create_table_as(false, following, jump_sql)) -%}
                    {%- set state.current = 1 - state.current -%}
                    {%- set jumps.count = jump_number -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if not jumps.done -%}
                {%- set state.jumps_failed = true -%}
            {%- endif -%}
            {%- do log("connected components: pass " ~ pass_number ~ ", " ~ hooking_trees ~ " trees hooked, " ~ jumps.count ~ " pointer jumps", info=true) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if not state.converged -%}
        {%- set node_count = run_query("select count(*) as nodes from " ~ work.labels[state.current]).columns[0].values()[0] | int -%}
        {%- set bound = namespace(log2=0) -%}
        {%- for doubling in range(64) if 2 ** bound.log2 < node_count -%}
            {%- set bound.log2 = bound.log2 + 1 -%}
        {%- endfor -%}
        {%- set needed = 2 * bound.log2 + 1 -%}
        {%- set problem = "Connected components did not converge within " ~ max_iterations
            ~ " passes or pointer jumps per pass (var identity_max_iterations); the graph has "
            ~ node_count ~ " identifiers, which need at most " ~ needed ~ " passes of at most "
            ~ bound.log2 ~ " jumps each (every two passes at least halve the trees of a component). " -%}
        {%- if needed > max_iterations -%}
            {{ exceptions.raise_compiler_error(problem
                ~ "Set identity_max_iterations to at least " ~ needed
                ~ ": the limit changes no result, it only lets the exact loop finish.") }}
        {%- else -%}
            {{ exceptions.raise_compiler_error(problem
                ~ "This is a defect of the engine or the macro, not a long chain: raising the limit "
                ~ "will not fix it; report it with the build's int_identity__links.") }}
        {%- endif -%}
    {%- endif -%}
    {{ return("(select node, label as component_root, " ~ state.passes ~ " as passes from " ~ work.labels[state.current] ~ ") as components") }}
{%- endmacro %}
