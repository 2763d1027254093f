-- One row per person × trigger firing at window_end_at, with the timestamp of the event
-- that proves it, for marketing automation. Only data before window_end_at counts: the
-- end of as_of_date, or with var trigger_window_end newest_complete_hour the end of the
-- newest complete hour (int_triggers__window). The abandonment window is
-- [window_end_at - trigger_lookback_hours, window_end_at), start inclusive. An order
-- (or cart event) at the same second as the cart (or product view) event counts as
-- after it: a conversion, not an abandonment.
--   cart_abandoned              latest added_to_cart / checkout_started in the window
--                               with no order (int_orders.is_order) at or after it
--   browse_abandoned            latest product_viewed in the window with no cart event
--                               and no order at or after it
--   first_purchase_not_repeated exactly one order, placed more than
--                               repurchase_cycle_days (int_lifecycle_thresholds) ago
--   decline_alert               is_declining on as_of_date (int_person_activity_metrics);
--                               evidence_at = the last user-initiated event
-- Each rule is one model (models/intermediate/triggers/int_triggers__<trigger_name>);
-- this mart is their union. Persons made only of excluded identifiers (kiosk ids, test
-- accounts) never trigger.
-- A trigger fires once per episode: episode_started_on is the first day its condition
-- held (cart / browse: the day of the evidence event; first_purchase_not_repeated: the
-- day after the repurchase cycle ran out; decline_alert: the first day of the current
-- run of declining days, int_person_decline_episodes), and is_new_episode marks the
-- rows whose episode starts on as_of_date (or, in an hour window, on the day after it,
-- up to window_end_at). A row on later days is the same episode;
-- fct_audience_changes (written at publish) lists each episode's entry once.
with

trigger_window as (
    select * from {{ ref('int_triggers__window') }}
),

cart_abandoned as (
    select * from {{ ref('int_triggers__cart_abandoned') }}
),

browse_abandoned as (
    select * from {{ ref('int_triggers__browse_abandoned') }}
),

first_purchase_not_repeated as (
    select * from {{ ref('int_triggers__first_purchase_not_repeated') }}
),

decline_alert as (
    select * from {{ ref('int_triggers__decline_alert') }}
),

persons as (
    select * from {{ ref('int_persons') }}
),

contactability as (
    select * from {{ ref('int_person_contactability') }}
),

fired as (
    select * from cart_abandoned
    union all
    select * from browse_abandoned
    union all
    select * from first_purchase_not_repeated
    union all
    select * from decline_alert
),

final as (
    select
        fired.person_id,
        fired.trigger_name,
        trigger_window.as_of_date,
        trigger_window.window_end_at,
        cast(fired.evidence_at as timestamp) as evidence_at,
        fired.episode_started_on,
        fired.evidence,
        fired.episode_started_on >= trigger_window.as_of_date as is_new_episode,
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
