-- The window the triggers read (fct_customer_triggers), one row: only data before
-- window_end_at counts; the abandonment triggers look at [window_start_at,
-- window_end_at), start inclusive, trigger_lookback_hours long. window_end_at is set
-- by var trigger_window_end:
--   as_of_day             the end of as_of_date (the default; the triggers move daily)
--   newest_complete_hour  the end of the newest complete hour in the data, never before
--                         the end of as_of_date: the hour of the latest event once
--                         something was loaded after it ended, else the hour before the
--                         latest load (as int_as_of_date judges a day complete). Hour-fresh
--                         abandonment triggers for micro-batches; stages keep the day.
{%- set window_end_at = 'end_of_as_of_date' if lw_trigger_window_end() == 'as_of_day'
    else 'greatest(end_of_as_of_date, end_of_newest_complete_hour)' %}
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

window_ends as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as timestamp) as end_of_as_of_date,
        least(
            cast({{ dbt.dateadd('hour', 1, dbt.date_trunc('hour', 'latest_event_at')) }} as timestamp),
            cast({{ dbt.date_trunc('hour', 'latest_loaded_at') }} as timestamp)
        ) as end_of_newest_complete_hour
    from as_of
),

window_end as (
    select
        as_of_date,
        {{ window_end_at }} as window_end_at
    from window_ends
),

final as (
    select
        as_of_date,
        window_end_at,
        cast(
            {{ dbt.dateadd('hour', -var('trigger_lookback_hours'), 'window_end_at') }}
            as timestamp
        ) as window_start_at
    from window_end
)

select * from final
