-- One row per landing table: raw rows read from the files, rows staged, rows
-- quarantined and duplicate rows removed (valid rows repeating a key, and exact
-- copies of rejected rows). Raw is counted from the base table, which holds one row
-- per raw row of every file read (each file is parsed once, there), plus the lines
-- that are no row (base_landing__unreadable_lines, or lw_declared_read for a declared
-- source), so a staging bug that loses rows breaks raw = staged + quarantined + duplicates.
with

quarantined as (
    select
        source,
        count(*) as quarantined_rows
    from {{ ref('stg_landing__quarantined_rows') }}
    group by source
),

{% for landing in lw_landing_tables() %}
{{ landing.source }}_counts as (
    select
        '{{ landing.source }}' as source,
        -- the base table holds one row per raw row (each file is parsed once, there),
        -- plus the lines that are no row
        (select count(*) from {{ ref(landing.base) }}{% if landing.filter %} where {{ landing.filter }}{% endif %})
        + (select count(*) from {{ lw_unreadable_lines(landing) }})
            as raw_rows,
        (select count(*) from {{ ref(landing.staging) }}{% if landing.filter %} where {{ landing.filter }}{% endif %})
            as staged_rows,
        -- valid rows repeating a key, plus exact copies of rejected rows (one pass over
        -- the base table; raw_record is only kept for rejected rows)
        (
            select
                count(case when reject_reason is null then 1 end)
                - count(distinct case when reject_reason is null then {{ landing.key }} end)
                + count(case when reject_reason is not null then 1 end)
                - count(distinct case when reject_reason is not null then raw_record end)
            from {{ ref(landing.base) }}
            {%- if landing.filter %}
            where {{ landing.filter }}
            {%- endif %}
        )
        -- exact copies of an unreadable line (same file, same line)
        + (
            select count(*) - count(distinct {{ lw_columns_to_json('unreadable_lines', ['_file', '_line']) }})
            from {{ lw_unreadable_lines(landing) }}
        ) as duplicate_rows
),

{% endfor %}
all_counts as (
    {% for landing in lw_landing_tables() %}
    select * from {{ landing.source }}_counts
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        all_counts.source,
        all_counts.raw_rows,
        all_counts.staged_rows,
        all_counts.duplicate_rows,
        coalesce(quarantined.quarantined_rows, 0) as quarantined_rows
    from all_counts
    left join quarantined
        on all_counts.source = quarantined.source
)

select * from final
