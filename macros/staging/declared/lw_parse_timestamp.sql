{#- A text timestamp `expr` in the declared `format` and IANA `time_zone` → UTC
    timestamp (without time zone); null when it does not parse (the row is
    quarantined). format: a strptime pattern ('%Y%m%d', '%d/%m/%Y %H:%M'), iso8601
    (a value with an offset or Z is converted from it; one without is read in
    time_zone), epoch_s, epoch_ms or epoch_us (UTC by definition). -#}
{% macro lw_parse_timestamp(expr, format, time_zone='UTC') -%}
    {{ return(adapter.dispatch('lw_parse_timestamp', 'lifecycle_warehouse')(expr, format, time_zone)) }}
{%- endmacro %}

{% macro duckdb__lw_parse_timestamp(expr, format, time_zone) -%}
    {%- if format == 'iso8601' -%}
        case
            when regexp_matches({{ expr }}, '[T ][0-9:.]+ ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$')
                then {{ lw_iso8601_to_utc(expr) }}
            else {{ lw_local_to_utc('try_cast(' ~ expr ~ ' as timestamp)', "'" ~ time_zone ~ "'") }}
        end
    {%- elif format in ('epoch_s', 'epoch_ms', 'epoch_us') -%}
        {%- set micros_per_unit = {'epoch_s': 1000000, 'epoch_ms': 1000, 'epoch_us': 1}[format] -%}
        make_timestamp(try_cast({{ expr }} as bigint) * {{ micros_per_unit }})
    {%- elif '%z' in format or '%Z' in format -%}
        {#- the value carries its offset: converted from it, time_zone does not apply -#}
        cast(timezone('UTC', try_strptime({{ expr }}, '{{ format }}')) as timestamp)
    {%- else -%}
        {{ lw_local_to_utc('try_strptime(' ~ expr ~ ", '" ~ format ~ "')", "'" ~ time_zone ~ "'") }}
    {%- endif -%}
{%- endmacro %}
