-- One row per person with at least one order row (an order, a cancellation or a
-- return) on or before as_of_date: orders, gross / net revenue, AOV, order dates,
-- purchase gaps, tenure, historical CLV and the lifetimes-compatible frequency /
-- recency / T / monetary_value, all from int_person_value_metrics (lw_value_metrics),
-- and the BG/NBD + Gamma-Gamma predictions of int_person_clv_predictions.
-- Persons made only of excluded identifiers (shared kiosk ids, test accounts) are
-- left out, as for every mart.
with

value_metrics as (
    select * from {{ ref('int_person_value_metrics') }}
),

persons as (
    select * from {{ ref('int_persons') }}
),

clv_predictions as (
    select * from {{ ref('int_person_clv_predictions') }}
),

final as (
    select
        value_metrics.person_id,
        value_metrics.snapshot_date as as_of_date,
        cast(value_metrics.order_count as {{ dbt.type_bigint() }}) as order_count,
        cast(value_metrics.gross_revenue as decimal(18, 2)) as gross_revenue,
        cast(value_metrics.refund_amount as decimal(18, 2)) as refund_amount,
        cast(value_metrics.net_revenue as decimal(18, 2)) as net_revenue,
        cast(value_metrics.average_order_value as decimal(18, 2)) as average_order_value,
        value_metrics.first_order_date,
        value_metrics.last_order_date,
        cast(value_metrics.days_since_last_order as {{ dbt.type_bigint() }}) as days_since_last_order,
        cast(value_metrics.purchase_days as {{ dbt.type_bigint() }}) as purchase_days,
        cast(value_metrics.mean_days_between_purchases as double) as mean_days_between_purchases,
        cast(value_metrics.historical_clv as decimal(18, 2)) as historical_clv,
        {{ lw_days_between('cast(persons.first_seen_at as date)', 'value_metrics.snapshot_date') }} as tenure_days,
        cast(value_metrics.frequency as {{ dbt.type_bigint() }}) as frequency,
        cast(value_metrics.recency as {{ dbt.type_bigint() }}) as recency,
        cast(value_metrics.t as {{ dbt.type_bigint() }}) as t,
        -- a mean, not an amount: kept in double precision so it equals lifetimes'
        cast(value_metrics.monetary_value as double) as monetary_value,
        -- BG/NBD + Gamma-Gamma (int_person_clv_predictions); null without a purchase day
        cast(clv_predictions.p_alive as double) as p_alive,
        cast(clv_predictions.churn_probability as double) as churn_probability,
        cast(clv_predictions.expected_purchases_90d as double) as expected_purchases_90d,
        cast(clv_predictions.expected_average_value as double) as expected_average_value,
        cast(clv_predictions.expected_clv_12m as double) as expected_clv_12m
    from value_metrics
    inner join persons
        on value_metrics.person_id = persons.person_id
    left join clv_predictions
        on value_metrics.person_id = clv_predictions.person_id
    where not persons.is_only_excluded_identifiers
)

select * from final
