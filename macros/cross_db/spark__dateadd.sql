{#- dbt.dateadd on Spark, exact below a day. dbt-spark adds hours / minutes / seconds
    through to_unix_timestamp, which drops the fractional seconds: 12:00:00.400 plus 30
    minutes became 12:30:00, so a 30-minute session gap or a 48-hour late-arrival
    boundary was judged on truncated times and differed from DuckDB. timestampadd keeps
    them. Days and longer stay dbt-spark's (on dates, where nothing is lost). Picked up
    through the `dispatch` search order in dbt_project.yml. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- if datepart | lower in ('hour', 'minute', 'second', 'millisecond', 'microsecond') -%}
        timestampadd({{ datepart | upper }}, {{ interval }}, {{ from_date_or_timestamp }})
    {%- else -%}
        {{ return(dbt.spark__dateadd(datepart, interval, from_date_or_timestamp)) }}
    {%- endif -%}
{%- endmacro %}
