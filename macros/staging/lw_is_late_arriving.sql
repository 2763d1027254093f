{#- A row loaded long after its event happened: kept, but flagged, because
    incremental models must look back far enough to pick it up. -#}
{% macro lw_is_late_arriving(event_at, loaded_at) -%}
    coalesce({{ loaded_at }} > {{ dbt.dateadd('hour', var('late_arriving_after_hours'), event_at) }}, false)
{%- endmacro %}
