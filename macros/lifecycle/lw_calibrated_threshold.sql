{#- Columns <name>_days, <name>_observed_days, <name>_observed_gaps, <name>_source and
    <name>_reason for one
    calibrated threshold, from an aggregate row holding `observed_expr` (the
    percentile of observed gaps) and `gaps_expr` (how many gaps were observed).
    Rule: the override var wins; with fewer than var('threshold_min_gaps') gaps the
    midpoint of the bounds is used; otherwise the observed value rounded up, clamped
    to the bounds. -#}
{% macro lw_calibrated_threshold(name, observed_expr, gaps_expr, percentile, bounds, override) -%}
    {%- set low, high = bounds[0], bounds[1] -%}
    {%- set midpoint = ((low + high) / 2) | round(0, 'ceil') | int -%}
    {%- set observed = "cast(ceil(" ~ observed_expr ~ ") as integer)" -%}
    {%- if override is not none %}
    {{ override | int }} as {{ name }}_days,
    {%- else %}
    case
        when {{ gaps_expr }} < {{ var('threshold_min_gaps') }} then {{ midpoint }}
        when {{ observed }} < {{ low }} then {{ low }}
        when {{ observed }} > {{ high }} then {{ high }}
        else {{ observed }}
    end as {{ name }}_days,
    {%- endif %}
    {{ observed }} as {{ name }}_observed_days,
    {{ gaps_expr }} as {{ name }}_observed_gaps,
    case
        {% if override is not none -%}
        when true then 'override'
        {% endif -%}
        when {{ gaps_expr }} < {{ var('threshold_min_gaps') }} then 'fallback'
        when {{ observed }} < {{ low }} then 'clamped_to_min'
        when {{ observed }} > {{ high }} then 'clamped_to_max'
        else 'calibrated'
    end as {{ name }}_source,
    case
        {% if override is not none -%}
        when true then 'var {{ name }}_days_override = {{ override }}'
        {% endif -%}
        when {{ gaps_expr }} < {{ var('threshold_min_gaps') }}
            then 'only ' || cast({{ gaps_expr }} as {{ dbt.type_string() }})
            || ' gaps observed (< {{ var("threshold_min_gaps") }}): midpoint of bounds [{{ low }}, {{ high }}]'
        else 'p{{ (percentile * 100) | int }} of ' || cast({{ gaps_expr }} as {{ dbt.type_string() }})
            || ' observed gaps = ' || cast({{ observed }} as {{ dbt.type_string() }})
            || ' days, bounds [{{ low }}, {{ high }}]'
    end as {{ name }}_reason
{%- endmacro %}
