{#- A whole row as a JSON string (the raw record kept in quarantine), including columns
    added by schema drift: lw_row_struct(alias) takes the row of a relation alias as one
    struct value (a column that can travel through CTEs and joins), lw_row_to_json(row)
    writes it as JSON. A base model writes the JSON only for its rejected rows: the JSON
    of every row was half of base_web__events' time (DECISIONLOG "The raw record is
    written for rejected rows only"). -#}
{% macro lw_row_struct(relation_alias) -%}
    {{ return(adapter.dispatch('lw_row_struct', 'lifecycle_warehouse')(relation_alias)) }}
{%- endmacro %}

{% macro default__lw_row_struct(relation_alias) -%}
    struct({{ relation_alias }}.*)
{%- endmacro %}

{#- DuckDB: a table alias used as a column is its row, as a struct -#}
{% macro duckdb__lw_row_struct(relation_alias) -%}
    {{ relation_alias }}
{%- endmacro %}

{% macro lw_row_to_json(row) -%}
    {{ return(adapter.dispatch('lw_row_to_json', 'lifecycle_warehouse')(row)) }}
{%- endmacro %}

{% macro default__lw_row_to_json(row) -%}
    to_json({{ row }})
{%- endmacro %}

{#- Spark drops null fields and writes ISO timestamps by default: keep every column
    (as DuckDB does) and write timestamps as 'yyyy-MM-dd HH:mm:ss.SSSSSS' in UTC
    (lossless to the microsecond; DuckDB trims the zero fraction). -#}
{% macro spark__lw_row_to_json(row) -%}
    to_json(
        {{ row }},
        map('ignoreNullFields', 'false', 'timestampFormat', 'yyyy-MM-dd HH:mm:ss.SSSSSS')
    )
{%- endmacro %}

{% macro duckdb__lw_row_to_json(row) -%}
    cast(to_json({{ row }}) as varchar)
{%- endmacro %}
