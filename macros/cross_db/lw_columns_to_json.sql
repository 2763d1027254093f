{#- The columns `columns` (names) of the row `relation_alias` as a JSON object string,
    keys in that order, nulls kept: {"a":"x","b":null}. The declared sources' raw_record
    (only the declared columns: the same line in two files is one line twice). -#}
{% macro lw_columns_to_json(relation_alias, columns) -%}
    {{ return(adapter.dispatch('lw_columns_to_json', 'lifecycle_warehouse')(relation_alias, columns)) }}
{%- endmacro %}

{% macro default__lw_columns_to_json(relation_alias, columns) -%}
    to_json(
        named_struct(
            {%- for column in columns -%}
            '{{ column }}', {{ relation_alias }}.{{ adapter.quote(column) }}{{ ', ' if not loop.last }}
            {%- endfor -%}
        ),
        map('ignoreNullFields', 'false', 'timestampFormat', 'yyyy-MM-dd HH:mm:ss.SSSSSS')
    )
{%- endmacro %}

{% macro duckdb__lw_columns_to_json(relation_alias, columns) -%}
    cast(to_json({
            {%- for column in columns -%}
            '{{ column }}': {{ relation_alias }}."{{ column }}"{{ ', ' if not loop.last }}
            {%- endfor -%}
        }) as varchar)
{%- endmacro %}
