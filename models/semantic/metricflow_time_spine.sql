-- One row per calendar day from var('time_spine_start_date') to var('time_spine_end_date')
-- (both included): the time spine MetricFlow joins to for metric_time. A fixed range,
-- not the data's, so the spine never depends on a build and covers CDNOW (1997-1998)
-- as well as any synthetic sample; the number of days is computed when the model
-- compiles, so no query runs to size it. Cross-database: dbt.generate_series and
-- dbt.dateadd only.
{%- set start_date = var('time_spine_start_date', '1990-01-01') -%}
{%- set end_date = var('time_spine_end_date', '2059-12-31') -%}
{%- set days = (
    modules.datetime.date.fromisoformat(end_date) - modules.datetime.date.fromisoformat(start_date)
).days + 1 %}
with

day_numbers as (
    {{ dbt.generate_series(days) }}
),

final as (
    select
        cast(
            {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', "cast('" ~ start_date ~ "' as date)") }}
            as date
        ) as date_day
    from day_numbers
)

select * from final
