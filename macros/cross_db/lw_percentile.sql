{#- Exact (interpolated) percentile of `expr` in an aggregate, p in [0, 1]. -#}
{% macro lw_percentile(expr, p) -%}
    {{ return(adapter.dispatch('lw_percentile', 'lifecycle_warehouse')(expr, p)) }}
{%- endmacro %}

{% macro default__lw_percentile(expr, p) -%}
    percentile({{ expr }}, {{ p }})
{%- endmacro %}

{% macro duckdb__lw_percentile(expr, p) -%}
    quantile_cont({{ expr }}, {{ p }})
{%- endmacro %}
