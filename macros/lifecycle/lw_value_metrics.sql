{#-
    Value metrics per person and snapshot date — one implementation for as_of_date
    (int_person_value_metrics) and every monthly snapshot (int_person_snapshot_metrics).
    Orders and purchase days are assigned to the period (previous_snapshot_date,
    snapshot_date] they fall in and accumulated, so each is read once.

    lifetimes-compatible columns (freq='D'): frequency = purchase days - 1;
    recency = last - first purchase day; T = snapshot - first purchase day;
    monetary_value = mean net revenue of the purchase days after the first (0 when
    frequency = 0). Only persons with at least one order row by the snapshot appear.

    Takes relations (or CTE names), never ref(): the model names its parents.
    snapshots: snapshot_date and previous_snapshot_date; orders: int_orders;
    persons: int_persons; purchase_days: int_person_purchase_days.
-#}
{% macro lw_value_metrics(snapshots, orders, persons, purchase_days) -%}
with

snapshots as (
    select snapshot_date, previous_snapshot_date from {{ snapshots }} as snapshots_input
),

-- orders of customers: not of persons made only of excluded identifiers
orders as (
    select orders.*
    from {{ orders }} as orders
    inner join {{ persons }} as persons
        on orders.person_id = persons.person_id
    where not persons.is_only_excluded_identifiers
),

purchase_days as (
    select * from {{ purchase_days }} as purchase_days_input
),

first_purchase_day as (
    select
        person_id,
        purchase_date as first_purchase_date,
        day_net_revenue as first_purchase_day_net_revenue
    from purchase_days
    where days_since_previous_purchase_day is null
),

orders_per_period as (
    select
        orders.person_id,
        snapshots.snapshot_date,
        count(case when orders.is_order then 1 end) as orders_in_period,
        sum(case when orders.is_order then orders.gross_revenue else 0 end) as gross_in_period,
        sum(orders.refund_amount) as refunds_in_period,
        sum(orders.net_revenue) as net_in_period,
        min(case when orders.is_order then orders.order_date end) as first_order_in_period,
        max(case when orders.is_order then orders.order_date end) as last_order_in_period,
        min(orders.order_date) as first_row_in_period
    from orders
    inner join snapshots
        on
            orders.order_date > snapshots.previous_snapshot_date
            and orders.order_date <= snapshots.snapshot_date
    group by orders.person_id, snapshots.snapshot_date
),

purchase_days_per_period as (
    select
        purchase_days.person_id,
        snapshots.snapshot_date,
        count(*) as purchase_days_in_period,
        sum(purchase_days.day_net_revenue) as purchase_day_revenue_in_period
    from purchase_days
    inner join snapshots
        on
            purchase_days.purchase_date > snapshots.previous_snapshot_date
            and purchase_days.purchase_date <= snapshots.snapshot_date
    group by purchase_days.person_id, snapshots.snapshot_date
),

-- one row per person and snapshot from the person's first order row on
grid as (
    select
        first_rows.person_id,
        snapshots.snapshot_date
    from (
        select
            person_id,
            min(order_date) as first_row_date
        from orders
        group by person_id
    ) as first_rows
    inner join snapshots
        on first_rows.first_row_date <= snapshots.snapshot_date
),

cumulative as (
    select
        grid.person_id,
        grid.snapshot_date,
        sum(coalesce(orders_per_period.orders_in_period, 0)) over person_history as order_count,
        sum(coalesce(orders_per_period.gross_in_period, 0)) over person_history as gross_revenue,
        sum(coalesce(orders_per_period.refunds_in_period, 0)) over person_history as refund_amount,
        sum(coalesce(orders_per_period.net_in_period, 0)) over person_history as net_revenue,
        min(orders_per_period.first_order_in_period) over person_history as first_order_date,
        max(orders_per_period.last_order_in_period) over person_history as last_order_date,
        sum(coalesce(purchase_days_per_period.purchase_days_in_period, 0)) over person_history as purchase_days,
        sum(coalesce(purchase_days_per_period.purchase_day_revenue_in_period, 0)) over person_history
            as purchase_day_revenue
    from grid
    left join orders_per_period
        on
            grid.person_id = orders_per_period.person_id
            and grid.snapshot_date = orders_per_period.snapshot_date
    left join purchase_days_per_period
        on
            grid.person_id = purchase_days_per_period.person_id
            and grid.snapshot_date = purchase_days_per_period.snapshot_date
    window person_history as (
        partition by grid.person_id order by grid.snapshot_date
        rows between unbounded preceding and current row
    )
),

value_metrics as (
    select
        cumulative.person_id,
        cumulative.snapshot_date,
        cast(cumulative.order_count as {{ dbt.type_bigint() }}) as order_count,
        cast(cumulative.gross_revenue as decimal(18, 2)) as gross_revenue,
        cast(cumulative.refund_amount as decimal(18, 2)) as refund_amount,
        cast(cumulative.net_revenue as decimal(18, 2)) as net_revenue,
        {{ lw_money_quotient('cumulative.net_revenue', 'cumulative.order_count') }} as average_order_value,
        cumulative.first_order_date,
        cumulative.last_order_date,
        {{ lw_days_between('cumulative.last_order_date', 'cumulative.snapshot_date') }} as days_since_last_order,
        cast(cumulative.purchase_days as {{ dbt.type_bigint() }}) as purchase_days,
        case
            when cumulative.purchase_days > 1
                then cast({{ lw_days_between('first_purchase_day.first_purchase_date', 'cumulative.last_order_date') }} as double)
                / (cumulative.purchase_days - 1)
        end as mean_days_between_purchases,
        cast(cumulative.net_revenue as decimal(18, 2)) as historical_clv,
        -- lifetimes summary_data_from_transaction_data(freq='D') equivalents
        cast(greatest(cumulative.purchase_days - 1, 0) as {{ dbt.type_bigint() }}) as frequency,
        case
            when cumulative.purchase_days > 0
                then {{ lw_days_between('first_purchase_day.first_purchase_date', 'cumulative.last_order_date') }}
            else 0
        end as recency,
        case
            when cumulative.purchase_days > 0
                then {{ lw_days_between('first_purchase_day.first_purchase_date', 'cumulative.snapshot_date') }}
        end as t,
        case
            when cumulative.purchase_days > 1
                -- double: a decimal quotient would keep 6 decimals on Spark, 17 digits on DuckDB
                then cast(cumulative.purchase_day_revenue - first_purchase_day.first_purchase_day_net_revenue as double)
                / (cumulative.purchase_days - 1)
            else 0
        end as monetary_value
    from cumulative
    left join first_purchase_day
        on cumulative.person_id = first_purchase_day.person_id
)

select * from value_metrics
{%- endmacro %}
