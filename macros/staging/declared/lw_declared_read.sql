{#- The raw rows of one declared source (an entry of var transaction_sources,
    event_sources or profile_sources, checked by `lw build` before any model runs): every
    declared file read with the declared dialect, never sniffed, and only the rows its
    `where` filter keeps. One row per raw row plus _file (the file it came from) and
    _line_number (its line in the file for the text format, the only format where a line
    number is deterministic; null otherwise). csv and text columns are text; parquet
    and json keep their types (nested JSON objects stay structs for expressions).
    Formats: csv, parquet, json (JSON lines), text (fields separated by runs of
    whitespace). -#}
{% macro lw_declared_read(declared) -%}
    {{ return(adapter.dispatch('lw_declared_read', 'lifecycle_warehouse')(declared)) }}
{%- endmacro %}

{% macro default__lw_declared_read(declared) -%}
    {{ exceptions.raise_compiler_error(
        "declared source '" ~ declared.name ~ "': declared sources are read on DuckDB only for now;"
        ~ " on " ~ target.type ~ " land the file as a table and write a staging model (docs/sources.md)."
    ) }}
{%- endmacro %}

{% macro duckdb__lw_declared_read(declared) -%}
    {%- set options = declared.get('options', {}) -%}
    {%- set files = "['" ~ (declared.paths | join("', '")) ~ "']" -%}
    {%- if declared.get('where') %}
    select * from (
    {%- endif %}
    {%- if declared.format == 'csv' -%}
        select
            *,
            filename as _file,
            cast(null as bigint) as _line_number
        from read_csv(
            {{ files }},
            delim = '{{ options.get("delimiter", ",") }}',
            quote = '{{ options.get("quote", "\"") }}',
            header = {{ 'true' if options.get('header', true) else 'false' }},
            {%- if not options.get('header', true) %}
            names = ['{{ options["columns"] | join("', '") }}'],
            {%- endif %}
            all_varchar = true,
            union_by_name = true,
            filename = true
        )
    {%- elif declared.format == 'parquet' -%}
        select
            *,
            filename as _file,
            cast(null as bigint) as _line_number
        from read_parquet({{ files }}, union_by_name = true, filename = true)
    {%- elif declared.format == 'json' -%}
        select
            *,
            filename as _file,
            cast(null as bigint) as _line_number
        from read_json({{ files }}, format = 'newline_delimited', union_by_name = true, filename = true)
    {%- elif declared.format == 'text' -%}
        {#- one row per non-empty line after the header; fields split on runs of spaces/tabs -#}
        select
            {% for column in options['columns'] -%}
            fields[{{ loop.index }}] as "{{ column }}",
            {% endfor -%}
            filename as _file,
            line_number as _line_number
        from (
            select
                filename,
                line_number,
                regexp_split_to_array(trim(line_text), '[ \t]+') as fields
            from (
                select
                    filename,
                    generate_subscripts(lines, 1) as line_number,
                    unnest(lines) as line_text
                from (
                    select
                        filename,
                        string_split(replace(content, chr(13), ''), chr(10)) as lines
                    from read_text({{ files }})
                ) as file_lines
            ) as numbered
            where
                trim(line_text) <> ''
                {%- if options.get('header', true) %}
                and line_number > 1
                {%- endif %}
        ) as split_lines
    {%- else -%}
        {{ exceptions.raise_compiler_error("declared source '" ~ declared.name ~ "': unknown format '" ~ declared.format ~ "' (csv, parquet, json, text)") }}
    {%- endif -%}
    {%- if declared.get('where') %}
    ) as declared_rows
    where {{ declared.where }}
    {%- endif -%}
{%- endmacro %}
