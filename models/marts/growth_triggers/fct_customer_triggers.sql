-- One row per person × trigger firing on as_of_date, with the timestamp of the event
-- that proves it, for marketing automation. Only data up to the end of as_of_date
-- counts. The abandonment window is [end of as_of_date - trigger_lookback_hours, end
-- of as_of_date), start inclusive. An order (or cart event) at the same second as the
-- cart (or product view) event counts as after it: a conversion, not an abandonment.
--   cart_abandoned              latest added_to_cart / checkout_started in the window
--                               with no order (int_orders.is_order) at or after it
--   browse_abandoned            latest product_viewed in the window with no cart event
--                               and no order at or after it
--   first_purchase_not_repeated exactly one order, placed more than
--                               repurchase_cycle_days (int_lifecycle_thresholds) ago
--   decline_alert               is_declining on as_of_date (int_person_activity_metrics);
--                               evidence_at = the last user-initiated event
-- Persons made only of excluded identifiers (kiosk ids, test accounts) never trigger.
-- A trigger fires once per episode: episode_started_on is the first day its condition
-- held (cart / browse: the day of the evidence event; first_purchase_not_repeated: the
-- day after the repurchase cycle ran out; decline_alert: the first day of the current
-- run of declining days, int_person_decline_episodes), and is_new_episode marks the
-- rows whose episode starts on as_of_date. A row on later days is the same episode;
-- fct_audience_changes (written at publish) lists each episode's entry once.
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

thresholds as (
    select * from {{ ref('int_lifecycle_thresholds') }}
),

events as (
    select * from {{ ref('int_events_unioned') }}
    where is_user_initiated and person_id is not null
),

orders as (
    select * from {{ ref('int_orders') }}
    where is_order and person_id is not null
),

activity_metrics as (
    select * from {{ ref('int_person_activity_metrics') }}
),

persons as (
    select * from {{ ref('int_persons') }}
),

contactability as (
    select * from {{ ref('int_person_contactability') }}
),

decline_episodes as (
    select * from {{ ref('int_person_decline_episodes') }}
),

trigger_window as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as timestamp) as window_end_at,
        cast(
            {{ dbt.dateadd('hour', -var('trigger_lookback_hours'), dbt.dateadd('day', 1, 'as_of_date')) }}
            as timestamp
        ) as window_start_at
    from as_of
),

orders_until_as_of as (
    select
        orders.person_id,
        orders.ordered_at,
        orders.order_date
    from orders
    cross join trigger_window
    where orders.ordered_at < trigger_window.window_end_at
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
        person_id,
        max(ordered_at) as last_ordered_at
    from orders_until_as_of
    group by person_id
),

last_cart_events as (
    select
        person_id,
        max(event_at) as last_cart_event_at
    from events_until_as_of
    where event_name in ('added_to_cart', 'checkout_started')
    group by person_id
),

cart_abandonments as (
    select
        events_until_as_of.person_id,
        events_until_as_of.event_at,
        events_until_as_of.event_name,
        events_until_as_of.channel,
        row_number() over (
            partition by events_until_as_of.person_id
            order by
                events_until_as_of.event_at desc,
                events_until_as_of.event_name asc,
                events_until_as_of.channel asc
        ) as recency_rank
    from events_until_as_of
    left join last_orders
        on events_until_as_of.person_id = last_orders.person_id
    where
        events_until_as_of.is_in_window
        and events_until_as_of.event_name in ('added_to_cart', 'checkout_started')
        and coalesce(events_until_as_of.event_at > last_orders.last_ordered_at, true)
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

single_orders as (
    select
        person_id,
        min(ordered_at) as ordered_at,
        min(order_date) as order_date
    from orders_until_as_of
    group by person_id
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

first_purchases_not_repeated as (
    select
        person_id,
        ordered_at,
        order_date,
        days_since_order,
        repurchase_cycle_days
    from first_purchase_ages
    where days_since_order > repurchase_cycle_days
),

declining as (
    select
        activity_metrics.person_id,
        activity_metrics.active_days_30d,
        activity_metrics.active_days_prev_30d,
        max(events_until_as_of.event_at) as last_event_at
    from activity_metrics
    inner join events_until_as_of
        on activity_metrics.person_id = events_until_as_of.person_id
    where activity_metrics.is_declining
    group by activity_metrics.person_id, activity_metrics.active_days_30d, activity_metrics.active_days_prev_30d
),

fired as (
    select
        person_id,
        'cart_abandoned' as trigger_name,
        event_at as evidence_at,
        cast(event_at as date) as episode_started_on,
        event_name || ' on ' || channel || ', no order since' as evidence
    from cart_abandonments
    where recency_rank = 1
    union all
    select
        person_id,
        'browse_abandoned' as trigger_name,
        event_at as evidence_at,
        cast(event_at as date) as episode_started_on,
        event_name || ' on ' || channel || ', no cart event or order since' as evidence
    from browse_abandonments
    where recency_rank = 1
    union all
    select
        person_id,
        'first_purchase_not_repeated' as trigger_name,
        ordered_at as evidence_at,
        cast({{ dbt.dateadd('day', 'repurchase_cycle_days + 1', 'order_date') }} as date) as episode_started_on,
        'only order on ' || cast(order_date as {{ dbt.type_string() }})
        || ', ' || cast(days_since_order as {{ dbt.type_string() }})
        || ' days ago (repurchase cycle ' || cast(repurchase_cycle_days as {{ dbt.type_string() }})
        || ' days)' as evidence
    from first_purchases_not_repeated
    union all
    select
        declining.person_id,
        'decline_alert' as trigger_name,
        declining.last_event_at as evidence_at,
        decline_episodes.episode_started_on,
        'active days fell from ' || cast(declining.active_days_prev_30d as {{ dbt.type_string() }})
        || ' (previous 30 days) to ' || cast(declining.active_days_30d as {{ dbt.type_string() }})
        || ' (last 30 days)' as evidence
    from declining
    inner join decline_episodes
        on declining.person_id = decline_episodes.person_id
),

final as (
    select
        fired.person_id,
        fired.trigger_name,
        trigger_window.as_of_date,
        cast(fired.evidence_at as timestamp) as evidence_at,
        fired.episode_started_on,
        fired.evidence,
        fired.episode_started_on = trigger_window.as_of_date as is_new_episode,
        coalesce(contactability.is_reachable_email, false) as is_reachable_email,
        coalesce(contactability.is_reachable_sms, false) as is_reachable_sms,
        coalesce(contactability.is_reachable_push, false) as is_reachable_push,
        coalesce(contactability.is_reachable_whatsapp, false) as is_reachable_whatsapp,
        coalesce(
            contactability.is_reachable_email
            or contactability.is_reachable_sms
            or contactability.is_reachable_push
            or contactability.is_reachable_whatsapp,
            false
        ) as is_reachable_any
    from fired
    inner join persons
        on fired.person_id = persons.person_id
    cross join trigger_window
    left join contactability
        on fired.person_id = contactability.person_id
    where not persons.is_only_excluded_identifiers
)

select * from final
