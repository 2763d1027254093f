{#- Keeps one row per `partition_by` (the first by `order_by`) from the CTE or
    relation `relation`. Portable (no QUALIFY). -#}
{% macro lw_deduplicate(relation, partition_by, order_by) -%}
    select deduplicated.*
    from (
        select
            ranked.*,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _dedup_rank
        from {{ relation }} as ranked
    ) as deduplicated
    where deduplicated._dedup_rank = 1
{%- endmacro %}
