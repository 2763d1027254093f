{#- Cast that yields null instead of failing (both engines), so validation
    never depends on a cast error. -#}
{% macro lw_safe_cast(expr, data_type) -%}
    {{ return(adapter.dispatch('lw_safe_cast', 'lifecycle_warehouse')(expr, data_type)) }}
{%- endmacro %}

{% macro default__lw_safe_cast(expr, data_type) -%}
    {{ dbt.safe_cast(expr, data_type) }}
{%- endmacro %}
