{#-
    The RFM score rule (SPEC §5), one place for r_score, f_score and m_score:
        least(5, 1 + floor(5 * percent_rank() over (order by <order_by>)))
    percent_rank = (rank - 1) / (rows - 1) gives equal values the same rank, so equal
    inputs always get equal scores; the first value in `order_by` order scores 1, the
    last 5 (5 * 1 would give 6, hence least). A lone row has percent_rank 0: score 1.
    order_by must put the best value last (recency: `recency_days desc`).
    Portable window functions only (percent_rank, floor, least).
-#}
{% macro lw_rfm_score(order_by, partition_by=none) -%}
    cast(
        least(
            5,
            1 + floor(
                5 * percent_rank() over (
                    {%- if partition_by %}partition by {{ partition_by }} {% endif -%}
                    order by {{ order_by }}
                )
            )
        ) as {{ dbt.type_int() }}
    )
{%- endmacro %}
