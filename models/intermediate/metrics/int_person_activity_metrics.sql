-- One row per person first seen on or before as_of_date: active days in the last
-- 7 / 30 / 90 days, first / last active date, days since last active, sessions,
-- the last 30 vs previous 30 days and is_declining. Same macro as every monthly
-- snapshot of int_person_snapshot_metrics.
{{ lw_activity_metrics(
    "(select snapshot_date, cast('1900-01-01' as date) as previous_snapshot_date from " ~ ref('int_lifecycle_snapshot_dates')
    ~ " where is_as_of_date)"
) }}
