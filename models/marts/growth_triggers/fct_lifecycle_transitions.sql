-- One row per snapshot date (month ends and as_of_date) × stage at the previous
-- snapshot × stage at this snapshot, with the number of persons who moved that way,
-- from int_lifecycle_stages (the rules of fct_lifecycle_history). Stays (same → same)
-- are rows too. A person's first snapshot (first seen in that period) comes from
-- from_stage 'none'. Persons never leave the snapshots once seen, so per snapshot
-- the non-'none' rows add up to the persons of the previous snapshot (tested).
with

stages as (
    select * from {{ ref('int_lifecycle_stages') }}
),

snapshot_dates as (
    select * from {{ ref('int_lifecycle_snapshot_dates') }}
),

snapshots as (
    select
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_date) as previous_snapshot_date
    from snapshot_dates
),

transitions as (
    select
        snapshot_date,
        lifecycle_stage as to_stage,
        coalesce(previous_snapshot_stage, 'none') as from_stage,
        count(*) as persons
    from stages
    group by snapshot_date, coalesce(previous_snapshot_stage, 'none'), lifecycle_stage
),

final as (
    select
        transitions.snapshot_date,
        snapshots.previous_snapshot_date,
        transitions.from_stage,
        transitions.to_stage,
        transitions.from_stage = transitions.to_stage as is_stay,
        cast(transitions.persons as {{ dbt.type_bigint() }}) as persons,
        cast(transitions.persons as double)
        / sum(transitions.persons) over (
            partition by transitions.snapshot_date, transitions.from_stage
        ) as share_of_from_stage
    from transitions
    inner join snapshots
        on transitions.snapshot_date = snapshots.snapshot_date
)

select * from final
