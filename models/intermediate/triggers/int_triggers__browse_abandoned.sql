-- browse_abandoned (fct_customer_triggers): a person's latest product_viewed in the
-- trigger window with no cart event (added_to_cart / checkout_started) and no order
-- (int_orders.is_order) at or after it; one at the same second counts as after it.
-- One row per person it fires for; the episode starts on the day of the evidence event.
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

events_until_as_of as (
    select
        events.person_id,
        events.event_name,
        events.channel,
        events.event_at,
        events.event_at >= trigger_window.window_start_at as is_in_window
    from events
    cross join trigger_window
    where events.event_at < trigger_window.window_end_at
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

last_cart_events as (
    select
        person_id,
        max(event_at) as last_cart_event_at
    from events_until_as_of
    where event_name in ('added_to_cart', 'checkout_started')
    group by person_id
),

browse_abandonments as (
    select
        events_until_as_of.person_id,
        events_until_as_of.event_at,
        events_until_as_of.event_name,
        events_until_as_of.channel,
        row_number() over (
            partition by events_until_as_of.person_id
            order by events_until_as_of.event_at desc, events_until_as_of.channel asc
        ) as recency_rank
    from events_until_as_of
    left join last_orders
        on events_until_as_of.person_id = last_orders.person_id
    left join last_cart_events
        on events_until_as_of.person_id = last_cart_events.person_id
    where
        events_until_as_of.is_in_window
        and events_until_as_of.event_name = 'product_viewed'
        and coalesce(events_until_as_of.event_at > last_orders.last_ordered_at, true)
        and coalesce(events_until_as_of.event_at > last_cart_events.last_cart_event_at, true)
),

final as (
    select
        person_id,
        'browse_abandoned' as trigger_name,
        event_at as evidence_at,
        cast(event_at as date) as episode_started_on,
        event_name || ' on ' || channel || ', no cart event or order since' as evidence
    from browse_abandonments
    where recency_rank = 1
)

select * from final
