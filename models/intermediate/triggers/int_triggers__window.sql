-- The window the triggers read (fct_customer_triggers), one row: only data before
-- window_end_at (the end of as_of_date) counts; the abandonment triggers look at
-- [window_start_at, window_end_at), start inclusive, trigger_lookback_hours long.
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

final as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as timestamp) as window_end_at,
        cast(
            {{ dbt.dateadd('hour', -var('trigger_lookback_hours'), dbt.dateadd('day', 1, 'as_of_date')) }}
            as timestamp
        ) as window_start_at
    from as_of
)

select * from final
