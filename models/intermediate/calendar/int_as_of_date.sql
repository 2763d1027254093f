-- One row: the date every metric and mart is computed as of. var('as_of_date') when
-- set; otherwise the last complete day in the data: the latest event date, but never
-- a day on which loading had not finished (a day is complete once something was
-- loaded after it ended). Never current_date: same data, same marts. The latest event
-- and load times are kept for the hour-fresh trigger window (int_triggers__window).
with

events as (
    select * from {{ ref('int_events_unioned') }}
),

derived as (
    select
        max(event_date) as latest_event_date,
        max(event_at) as latest_event_at,
        max(loaded_at) as latest_loaded_at,
        least(
            max(event_date),
            cast({{ dbt.dateadd('day', -1, 'max(loaded_at)') }} as date)
        ) as last_complete_date
    from events
),

final as (
    select
        {% if var('as_of_date') is not none -%}
            cast('{{ var("as_of_date") }}' as date) as as_of_date,
            'var as_of_date' as as_of_date_source,
        {%- else -%}
        last_complete_date as as_of_date,
        'last complete day in the data' as as_of_date_source,
        {%- endif %}
        latest_event_date,
        latest_event_at,
        latest_loaded_at
    from derived
)

select * from final
