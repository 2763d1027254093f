-- first_purchase_not_repeated (fct_customer_triggers): exactly one order
-- (int_orders.is_order) before the end of as_of_date, placed more than
-- repurchase_cycle_days (int_lifecycle_thresholds) ago. One row per person it fires
-- for; the episode starts the day after the repurchase cycle ran out.
with

trigger_window as (
    select * from {{ ref('int_triggers__window') }}
),

thresholds as (
    select * from {{ ref('int_lifecycle_thresholds') }}
),

orders as (
    select * from {{ ref('int_orders') }}
    where is_order and person_id is not null
),

single_orders as (
    select
        orders.person_id,
        min(orders.ordered_at) as ordered_at,
        min(orders.order_date) as order_date
    from orders
    cross join trigger_window
    where orders.ordered_at < trigger_window.window_end_at
    group by orders.person_id
    having count(*) = 1
),

first_purchase_ages as (
    select
        single_orders.person_id,
        single_orders.ordered_at,
        single_orders.order_date,
        {{ lw_days_between('single_orders.order_date', 'trigger_window.as_of_date') }}
            as days_since_order,
        thresholds.repurchase_cycle_days
    from single_orders
    cross join trigger_window
    cross join thresholds
),

final as (
    select
        person_id,
        'first_purchase_not_repeated' as trigger_name,
        ordered_at as evidence_at,
        cast({{ dbt.dateadd('day', 'repurchase_cycle_days + 1', 'order_date') }} as date) as episode_started_on,
        'only order on ' || cast(order_date as {{ dbt.type_string() }})
        || ', ' || cast(days_since_order as {{ dbt.type_string() }})
        || ' days ago (repurchase cycle ' || cast(repurchase_cycle_days as {{ dbt.type_string() }})
        || ' days)' as evidence
    from first_purchase_ages
    where days_since_order > repurchase_cycle_days
)

select * from final
