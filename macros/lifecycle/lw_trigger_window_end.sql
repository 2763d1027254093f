{#- var trigger_window_end, checked: as_of_day (the trigger window ends at the end of
    as_of_date) or newest_complete_hour (at the end of the newest complete hour in the
    data; not with a pinned as_of_date). Read by int_triggers__window only. -#}
{% macro lw_trigger_window_end() -%}
    {%- set window_end = var('trigger_window_end') -%}
    {%- if window_end not in ('as_of_day', 'newest_complete_hour') -%}
        {{ exceptions.raise_compiler_error(
            "var trigger_window_end is '" ~ window_end ~ "'. Fix: give as_of_day (the "
            ~ "end of as_of_date, the default) or newest_complete_hour (hour-fresh triggers)") }}
    {%- endif -%}
    {%- if window_end == 'newest_complete_hour' and var('as_of_date') is not none -%}
        {{ exceptions.raise_compiler_error(
            "var trigger_window_end newest_complete_hour reads the newest data, but "
            ~ "as_of_date is pinned to " ~ var('as_of_date') ~ ". Fix: unpin as_of_date, "
            ~ "or keep trigger_window_end as_of_day (the end of the pinned day)") }}
    {%- endif -%}
    {{ return(window_end) }}
{%- endmacro %}
