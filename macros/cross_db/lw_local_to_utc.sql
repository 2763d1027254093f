{#- A wall-clock timestamp in the IANA time zone `tz_expr` → UTC timestamp
    (without time zone); tz_expr may be a column. One rule on every engine (the same
    SQL, over lw_utc_to_local): a wall time is read with the UTC offset in effect
    before a clock change, unless it exists only after the change. So a time in a DST
    overlap (it occurs twice) is the earlier instant (summer time: 01:30 on
    2025-11-02 in New York is 05:30Z), and a time in a DST gap (it never occurs) is
    moved forward by the gap (02:30 on 2025-03-09 in New York is 07:30Z = 03:30 EDT),
    as java.time and Spark's to_utc_timestamp do. lw_local_time_ambiguity flags both.
    The offsets before and after are those one day either side: a zone changing its
    offset twice within two days is not supported. -#}
{% macro lw_local_to_utc(ts_expr, tz_expr) -%}
    {%- if tz_expr == "'UTC'" -%}
        cast({{ ts_expr }} as timestamp)
    {%- else -%}
        {%- set before = lw_utc_offset('(' ~ ts_expr ~ ' - interval 1 day)', tz_expr) -%}
        {%- set after = lw_utc_offset('(' ~ ts_expr ~ ' + interval 1 day)', tz_expr) -%}
        case
            when
                {{ before }} <> {{ after }}
                and {{ lw_utc_to_local('(' ~ ts_expr ~ ' - ' ~ before ~ ')', tz_expr) }} <> {{ ts_expr }}
                and {{ lw_utc_to_local('(' ~ ts_expr ~ ' - ' ~ after ~ ')', tz_expr) }} = {{ ts_expr }}
                then {{ ts_expr }} - {{ after }}
            else {{ ts_expr }} - {{ before }}
        end
    {%- endif -%}
{%- endmacro %}

{#- 'overlap' when the wall time `ts_expr` occurs twice in `tz_expr` (clocks set
    back), 'gap' when it never occurs (clocks set forward), null otherwise (and for a
    null time): how lw_local_to_utc had to choose. -#}
{% macro lw_local_time_ambiguity(ts_expr, tz_expr) -%}
    {%- if tz_expr == "'UTC'" -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {%- set before = lw_utc_offset('(' ~ ts_expr ~ ' - interval 1 day)', tz_expr) -%}
        {%- set after = lw_utc_offset('(' ~ ts_expr ~ ' + interval 1 day)', tz_expr) -%}
        {%- set fits_before = '(' ~ lw_utc_to_local('(' ~ ts_expr ~ ' - ' ~ before ~ ')', tz_expr) ~ ' = ' ~ ts_expr ~ ')' -%}
        {%- set fits_after = '(' ~ lw_utc_to_local('(' ~ ts_expr ~ ' - ' ~ after ~ ')', tz_expr) ~ ' = ' ~ ts_expr ~ ')' -%}
        case
            when {{ before }} <> {{ after }} and {{ fits_before }} and {{ fits_after }} then 'overlap'
            when {{ before }} <> {{ after }} and not {{ fits_before }} and not {{ fits_after }} then 'gap'
        end
    {%- endif -%}
{%- endmacro %}

{#- The UTC offset of tz_expr at the UTC instant ts_expr: an interval, local minus
    UTC (lw_local_to_utc takes it one day before and one day after a wall time: equal
    unless the clocks change near it). -#}
{% macro lw_utc_offset(ts_expr, tz_expr) -%}
    ({{ lw_utc_to_local(ts_expr, tz_expr) }} - {{ ts_expr }})
{%- endmacro %}

{#- A UTC timestamp (without time zone) → the wall-clock timestamp in the IANA time
    zone tz_expr. -#}
{% macro lw_utc_to_local(ts_expr, tz_expr) -%}
    {{ return(adapter.dispatch('lw_utc_to_local', 'lifecycle_warehouse')(ts_expr, tz_expr)) }}
{%- endmacro %}

{% macro default__lw_utc_to_local(ts_expr, tz_expr) -%}
    from_utc_timestamp({{ ts_expr }}, {{ tz_expr }})
{%- endmacro %}

{% macro duckdb__lw_utc_to_local(ts_expr, tz_expr) -%}
    cast(timezone({{ tz_expr }}, timezone('UTC', {{ ts_expr }})) as timestamp)
{%- endmacro %}
