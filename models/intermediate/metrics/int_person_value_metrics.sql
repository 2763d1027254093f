-- One row per person with at least one order row on or before as_of_date: orders,
-- gross / net revenue, AOV, first / last order, mean days between purchases,
-- historical CLV and the lifetimes-compatible frequency / recency / T /
-- monetary_value. Same macro as every monthly snapshot.
{{ lw_value_metrics(
    "(select snapshot_date, cast('1900-01-01' as date) as previous_snapshot_date from "
    ~ ref('int_lifecycle_snapshot_dates') ~ " where is_as_of_date)"
) }}
