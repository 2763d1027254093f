{#- Keeps one row per `partition_by` (the first by `order_by`) from the CTE or
    relation `relation`. Portable (no QUALIFY, no DISTINCT ON).

    Duplicates are rare (about 0.5 % of landing rows), so rows whose key occurs once
    pass straight through and only the duplicated keys are ranked: a window over every
    row (a sort of the whole wide table) was 5x slower on DuckDB. A null key is ranked
    with the duplicates (one row kept), as a plain window would. `partition_by` with
    several columns falls back to the plain window. The result has the relation's
    columns plus _dedup_rank (always 1). `relation` is read three times: a CTE
    declares itself with lw_deduplicate_input (below). -#}
{% macro lw_deduplicate(relation, partition_by, order_by) -%}
    {%- if ',' in partition_by -%}
        select deduplicated.*
        from (
            select
                ranked.*,
                row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _dedup_rank
            from {{ relation }} as ranked
        ) as deduplicated
        where deduplicated._dedup_rank = 1
    {%- else -%}
        select
            single.*,
            1 as _dedup_rank
        from {{ relation }} as single
        where
            single.{{ partition_by }} is not null
            and single.{{ partition_by }} not in (
                select repeated.{{ partition_by }}
                from {{ relation }} as repeated
                where repeated.{{ partition_by }} is not null
                group by repeated.{{ partition_by }}
                having count(*) > 1
            )
        union all
        select deduplicated.*
        from (
            select
                ranked.*,
                row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _dedup_rank
            from {{ relation }} as ranked
            where
                ranked.{{ partition_by }} is null
                or ranked.{{ partition_by }} in (
                    select repeated.{{ partition_by }}
                    from {{ relation }} as repeated
                    where repeated.{{ partition_by }} is not null
                    group by repeated.{{ partition_by }}
                    having count(*) > 1
                )
        ) as deduplicated
        where deduplicated._dedup_rank = 1
    {%- endif -%}
{%- endmacro %}

{#- Written between the name and the body of the CTE that lw_deduplicate reads
    (`validated as {{ lw_deduplicate_input() }} (`), which it reads three times (the
    duplicated keys, the single rows, the ranked rows). DuckDB materializes a CTE read
    more than once: on a full build that kept every wide landing row (2.1 GB of
    stg_web__events' 2.5 GB peak at 10M events, a spill to disk at 100M), so there
    the CTE is inlined (`not materialized`: three scans of the base table, which read
    only the columns each needs). An incremental run's CTE holds only the new rows and
    its anti join on the staged keys (lw_not_yet_loaded) is the costly part: it stays
    materialized, computed once. Other engines: nothing (Spark inlines CTEs).
    DECISIONLOG "Deduplication reads its input inlined on a full build". -#}
{% macro lw_deduplicate_input() -%}
    {{ return(adapter.dispatch('lw_deduplicate_input', 'lifecycle_warehouse')()) }}
{%- endmacro %}

{% macro default__lw_deduplicate_input() -%}
{%- endmacro %}

{% macro duckdb__lw_deduplicate_input() -%}
    {#- is_incremental() only where it can answer (a unit test has no relation) -#}
    {%- if not (config.get('materialized') == 'incremental' and is_incremental()) -%}
        not materialized
    {%- endif -%}
{%- endmacro %}
