-- Nobody appears or vanishes in fct_lifecycle_transitions: per snapshot, all rows add up
-- to the persons of that snapshot in fct_lifecycle_history, and the rows not coming
-- from 'none' add up to the persons of the previous snapshot (a person once seen stays
-- in every later snapshot). Every row returned is a snapshot where counts differ.
with

transitions as (
    select * from {{ ref('fct_lifecycle_transitions') }}
),

history as (
    select * from {{ ref('fct_lifecycle_history') }}
),

history_counts as (
    select
        snapshot_date,
        count(*) as persons
    from history
    group by snapshot_date
),

transition_counts as (
    select
        snapshot_date,
        max(previous_snapshot_date) as previous_snapshot_date,
        sum(persons) as persons_to,
        sum(case when from_stage <> 'none' then persons else 0 end) as persons_from
    from transitions
    group by snapshot_date
)

select
    history_counts.snapshot_date,
    history_counts.persons as history_persons,
    transition_counts.persons_to,
    transition_counts.persons_from,
    previous_counts.persons as previous_history_persons
from history_counts
left join transition_counts
    on history_counts.snapshot_date = transition_counts.snapshot_date
left join history_counts as previous_counts
    on transition_counts.previous_snapshot_date = previous_counts.snapshot_date
where
    transition_counts.persons_to is null
    or transition_counts.persons_to <> history_counts.persons
    or transition_counts.persons_from <> coalesce(previous_counts.persons, 0)
