{#- The whole row of `relation_alias` as a JSON string (the raw record kept
    in quarantine). Includes columns added by schema drift. -#}
{% macro lw_row_to_json(relation_alias) -%}
    {{ return(adapter.dispatch('lw_row_to_json', 'lifecycle_warehouse')(relation_alias)) }}
{%- endmacro %}

{% macro default__lw_row_to_json(relation_alias) -%}
    to_json(struct({{ relation_alias }}.*))
{%- endmacro %}

{#- Spark drops null fields and writes ISO timestamps by default: keep every column
    (as DuckDB does) and write timestamps as 'yyyy-MM-dd HH:mm:ss.SSSSSS' in UTC
    (lossless to the microsecond; DuckDB trims the zero fraction). -#}
{% macro spark__lw_row_to_json(relation_alias) -%}
    to_json(
        struct({{ relation_alias }}.*),
        map('ignoreNullFields', 'false', 'timestampFormat', 'yyyy-MM-dd HH:mm:ss.SSSSSS')
    )
{%- endmacro %}

{% macro duckdb__lw_row_to_json(relation_alias) -%}
    cast(to_json({{ relation_alias }}) as varchar)
{%- endmacro %}
