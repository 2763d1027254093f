{#- A query with one row per line of the text column `text_column` of `relation`
    (a CTE name): line_number (1 = first line) and line_text, carriage returns removed
    (CRLF files). The last line is empty when the text ends with a line break. -#}
{% macro lw_numbered_lines(relation, text_column) -%}
    {{ return(adapter.dispatch('lw_numbered_lines', 'lifecycle_warehouse')(relation, text_column)) }}
{%- endmacro %}

{% macro default__lw_numbered_lines(relation, text_column) -%}
    select
        exploded.position + 1 as line_number,
        exploded.line_text
    from {{ relation }}
    lateral view posexplode(split(replace({{ text_column }}, chr(13), ''), chr(10))) exploded as position, line_text
{%- endmacro %}

{% macro duckdb__lw_numbered_lines(relation, text_column) -%}
    select
        generate_subscripts(lines, 1) as line_number,
        unnest(lines) as line_text
    from (
        select string_split(replace({{ text_column }}, chr(13), ''), chr(10)) as lines
        from {{ relation }}
    ) as file_lines
{%- endmacro %}
