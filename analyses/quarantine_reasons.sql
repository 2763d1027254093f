-- Why rows were rejected, per source and reason, with one example record each.
-- Start here when the reconciliation shows many quarantined rows.
with

quarantined as (
    select * from {{ ref('stg_landing__quarantined_rows') }}
),

final as (
    select
        source,
        reject_reason,
        count(*) as rows_rejected,
        min(raw_record) as example_record
    from quarantined
    group by source, reject_reason
)

select * from final
order by source asc, rows_rejected desc
