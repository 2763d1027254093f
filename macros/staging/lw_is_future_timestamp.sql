{#- An event stamped after it was loaded (beyond a small clock-skew tolerance)
    cannot be real: quarantined as future_timestamp. -#}
{% macro lw_is_future_timestamp(event_at, loaded_at) -%}
    ({{ event_at }} > {{ dbt.dateadd('minute', var('future_timestamp_tolerance_minutes'), loaded_at) }})
{%- endmacro %}
