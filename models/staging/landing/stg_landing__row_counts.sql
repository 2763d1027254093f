-- One row per landing table: raw rows read from the files, rows staged, rows
-- quarantined and duplicate rows removed (valid rows repeating a key, and exact
-- copies of rejected rows). Raw is counted from the landing files themselves
-- (lw_landing_rows: the rows it reads plus the lines it cannot read; a declared
-- source: its base table's rows plus the lines lw_declared_read cannot read), so a staging bug
-- that loses rows breaks raw = staged + quarantined + duplicates.
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
        {% if landing.declaration -%}
        -- a declared source: its base table holds one row per raw row (the files are
        -- parsed once, there), plus its lines that are no row
        (select count(*) from {{ ref(landing.base) }} where {{ landing.filter }})
        + (select count(*) from {{ lw_unreadable_lines(landing) }})
            as raw_rows,
        (select count(*) from {{ ref(landing.staging) }} where {{ landing.filter }}) as staged_rows,
        {%- else -%}
        (select count(*) from {{ lw_landing_rows(landing.source, landing.table) }})
        + (select count(*) from {{ lw_landing_rows(landing.source, landing.table, readable=false) }})
            as raw_rows,
        (select count(*) from {{ ref(landing.staging) }}) as staged_rows,
        {%- endif %}
        -- valid rows repeating a key, plus exact copies of rejected rows (one pass over
        -- the base view; raw_record is only built for rejected rows)
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
