{#- An event dated before var min_event_date (default 1990-01-01) is a broken clock or
    a placeholder (1970-01-01, epoch 0), not history: quarantined as
    timestamp_before_min_event_date, so it can neither stretch the monthly snapshots
    back decades nor count as a person's first activity. Null when the time is null. -#}
{% macro lw_is_before_min_event_date(event_at) -%}
    ({{ event_at }} < cast('{{ var("min_event_date") }}' as {{ dbt.type_timestamp() }}))
{%- endmacro %}
