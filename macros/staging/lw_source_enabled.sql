{#- True when the built-in demo source `source_name` (web, app, messaging, store_pos,
    online_orders, crm) is part of this build (var demo_sources). -#}
{% macro lw_source_enabled(source_name) -%}
    {{ return(source_name in var('demo_sources')) }}
{%- endmacro %}
