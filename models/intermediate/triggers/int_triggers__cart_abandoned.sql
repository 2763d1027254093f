-- cart_abandoned (fct_customer_triggers): a person's latest added_to_cart /
-- checkout_started in the trigger window with no order (int_orders.is_order) at or
-- after it; an order at the same second as the cart event counts as after it. One row
-- per person it fires for; the episode starts on the day of the evidence event.
with

trigger_window as (
    select * from {{ ref('int_triggers__window') }}
),

events as (
    select * from {{ ref('int_events_unioned') }}
    where is_user_initiated and person_id is not null
),

orders as (
    select * from {{ ref('int_orders') }}
    where is_order and person_id is not null
),

last_orders as (
    select
        orders.person_id,
        max(orders.ordered_at) as last_ordered_at
    from orders
    cross join trigger_window
    where orders.ordered_at < trigger_window.window_end_at
    group by orders.person_id
),

cart_abandonments as (
    select
        events.person_id,
        events.event_at,
        events.event_name,
        events.channel,
        row_number() over (
            partition by events.person_id
            order by events.event_at desc, events.event_name asc, events.channel asc
        ) as recency_rank
    from events
    cross join trigger_window
    left join last_orders
        on events.person_id = last_orders.person_id
    where
        events.event_at >= trigger_window.window_start_at
        and events.event_at < trigger_window.window_end_at
        and events.event_name in ('added_to_cart', 'checkout_started')
        and coalesce(events.event_at > last_orders.last_ordered_at, true)
),

final as (
    select
        person_id,
        'cart_abandoned' as trigger_name,
        event_at as evidence_at,
        cast(event_at as date) as episode_started_on,
        event_name || ' on ' || channel || ', no order since' as evidence
    from cart_abandonments
    where recency_rank = 1
)

select * from final
