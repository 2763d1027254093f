{#- The raw rows of one declared source (an entry of var transaction_sources,
    event_sources or profile_sources, checked by `lw build` before any model runs): every
    declared file read with the declared dialect, never sniffed, and only the rows its
    `where` filter keeps. One row per raw row plus _file (the file it came from) and
    _line_number (its line in the file for the text format, the only format where a line
    number is deterministic; null otherwise). csv and text columns are text; parquet
    and json keep their types (nested JSON objects stay structs for expressions).
    Formats: csv, parquet, json (JSON lines), text (fields separated by runs of
    whitespace).

    DuckDB reads csv and json line by line (lw_read_lines, the demo sources' reader):
    a line that cannot be read (invalid_utf8, line_too_long, malformed_csv_row,
    wrong_field_count, malformed_json) is no row; readable=false gives those lines
    instead (_file, _line, reject_reason; the `where` filter does not apply: they have
    no columns), quarantined by stg_landing__quarantined_rows and counted as raw rows
    by stg_landing__row_counts. JSON values are typed by json_transform with the
    structure of the file's readable lines (json_group_structure: numbers, text,
    booleans, lists and structs; a key that is only ever null is text). parquet and
    text, and Spark: no unreadable lines (a bad file stops the build). -#}
{% macro lw_declared_read(declared, readable=true) -%}
    {{ return(adapter.dispatch('lw_declared_read', 'lifecycle_warehouse')(declared, readable)) }}
{%- endmacro %}

{% macro default__lw_declared_read(declared, readable=true) -%}
    {{ exceptions.raise_compiler_error(
        "declared source '" ~ declared.name ~ "': declared sources are read on DuckDB only for now;"
        ~ " on " ~ target.type ~ " land the file as a table and write a staging model (docs/sources.md)."
    ) }}
{%- endmacro %}

{#- the dialect of lw_read_lines for a declared csv or json source (json: the structure
    of its readable lines, found with a query; none before execution) -#}
{% macro lw_declared_lines_dialect(declared) -%}
    {%- set options = declared.get('options', {}) -%}
    {%- set dialect = {'file_columns': true} -%}
    {%- if declared.format == 'csv' -%}
        {%- do dialect.update({
            'delimiter': options.get('delimiter', ','),
            'quote': options.get('quote', '"'),
            'header': options.get('header', true),
            'names': options.get('columns') or []
        }) -%}
    {%- elif execute -%}
        {%- set structure = run_query(
            "select cast(json_group_structure(cast(_line as json)) as varchar) from ("
            ~ lw_read_lines(declared.paths, 'json', 'objects', dialect) ~ ") as lw_objects"
        ).columns[0].values()[0] -%}
        {#- a key that is only ever null: text -#}
        {%- if structure and structure.startswith('{') and structure != '{}' -%}
            {%- do dialect.update({'json_structure': structure | replace('"NULL"', '"VARCHAR"')}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(dialect) }}
{%- endmacro %}

{% macro duckdb__lw_declared_read(declared, readable=true) -%}
    {%- if readable -%}
        {{ lw_duckdb_declared_rows(declared) }}
    {%- elif declared.format in ('csv', 'json') -%}
    select * from (
        {{ lw_read_lines(declared.paths, declared.format, 'unreadable', lw_declared_lines_dialect(declared)) }}
    ) as declared_unreadable_lines
    {%- else -%}
    select * from {{ lw_no_unreadable_lines() }}
    {%- endif -%}
{%- endmacro %}

{% macro lw_duckdb_declared_rows(declared) -%}
    {%- set options = declared.get('options', {}) -%}
    {%- set files = "['" ~ (declared.paths | join("', '")) ~ "']" -%}
    {%- if declared.get('where') %}
    select * from (
    {%- endif %}
    {%- if declared.format in ('csv', 'json') -%}
        select * from (
            {{ lw_read_lines(declared.paths, declared.format, 'rows', lw_declared_lines_dialect(declared)) }}
        ) as declared_lines
    {%- elif declared.format == 'parquet' -%}
        select
            *,
            filename as _file,
            cast(null as bigint) as _line_number
        from read_parquet({{ files }}, union_by_name = true, filename = true)
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

{#- Spark: the per-file tables of schema lw_declared (registered by the on-run-start hook
    lw_register_landing_tables), giving the rows and columns the DuckDB version gives:
    _file is the declared path itself (a literal per file: DuckDB's filename, no file:
    scheme), csv/parquet/json keep DuckDB's `filename` column too, and files are unioned
    by column name (union_by_name): columns in order of first appearance, null where a
    file lacks one. text: lines split on line feeds after removing carriage returns,
    numbered from 1 (the header is line 1), blank lines (only spaces) skipped, fields
    split on runs of spaces/tabs; a missing field is null (get, not [] under ANSI). -#}
{% macro spark__lw_declared_read(declared, readable=true) -%}
    {%- if not readable -%}
        {{ return('select * from ' ~ lw_no_unreadable_lines()) }}
    {%- endif -%}
    {%- set options = declared.get('options', {}) -%}
    {%- set tables = lw_declared_file_tables(declared) -%}
    {%- if declared.format not in ['csv', 'parquet', 'json', 'text'] -%}
        {{ exceptions.raise_compiler_error("declared source '" ~ declared.name ~ "': unknown format '" ~ declared.format ~ "' (csv, parquet, json, text)") }}
    {%- endif -%}
    {%- if declared.get('where') %}
    select * from (
    {%- endif %}
    {%- if declared.format == 'text' -%}
        select
            {% for column in options['columns'] -%}
            get(fields, {{ loop.index0 }}) as `{{ column }}`,
            {% endfor -%}
            _file,
            _line_number
        from (
            select
                _file,
                cast(line_number as bigint) as _line_number,
                split(trim(line_text), '[ \\t]+') as fields
            from (
                {%- for table in tables %}
                select
                    {{ lw_spark_string_literal(table.path) }} as _file,
                    exploded.position + 1 as line_number,
                    exploded.line_text
                from {{ table.relation }}
                lateral view posexplode(split(replace(value, chr(13), ''), chr(10))) exploded as position, line_text
                {%- if not loop.last %}
                union all
                {%- endif %}
                {%- endfor %}
            ) as numbered
            where
                trim(line_text) <> ''
                {%- if options.get('header', true) %}
                and line_number > 1
                {%- endif %}
        ) as split_lines
    {%- else -%}
        {#- union by name: every file's columns (known once the hook has created the
            tables, i.e. at execution; at parse time a star stands in), in DuckDB's
            order: options.columns (the first file's, in file order: Spark's JSON reader
            sorts fields by name) then any further ones in order of appearance -#}
        {%- set file_columns = [] -%}
        {%- set all_columns = [] -%}
        {%- set column_types = {} -%}
        {%- set spelling = {} -%}
        {%- if execute -%}
            {%- set first_seen = [] -%}
            {%- for table in tables -%}
                {%- set relation = api.Relation.create(schema=table.schema, identifier=table.identifier) -%}
                {%- set names = {} -%}
                {%- for column in adapter.get_columns_in_relation(relation) -%}
                    {%- do names.update({column.name | lower: column.name}) -%}
                    {%- if (column.name | lower) not in column_types -%}
                        {%- do first_seen.append(column.name) -%}
                        {%- do column_types.update({column.name | lower: column.data_type}) -%}
                        {%- do spelling.update({column.name | lower: column.name}) -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- do file_columns.append(names) -%}
            {%- endfor -%}
            {%- set placed = [] -%}
            {%- for column in (options.get('columns') or []) + first_seen -%}
                {%- if (column | lower) in column_types and (column | lower) not in placed -%}
                    {%- do placed.append(column | lower) -%}
                    {#- spelled as the first file that has it spells it -#}
                    {%- do all_columns.append(spelling[column | lower]) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
        {%- for table in tables %}
        select
            {% if all_columns -%}
            {%- set names = file_columns[loop.index0] -%}
            {%- for column in all_columns -%}
            {%- if (column | lower) in names -%}
            `{{ names[column | lower] }}` as `{{ column }}`,
            {% else -%}
            cast(null as {{ column_types[column | lower] }}) as `{{ column }}`,
            {% endif -%}
            {%- endfor -%}
            {%- else -%}
            *,
            {% endif -%}
            {{ lw_spark_string_literal(table.path) }} as filename,
            {{ lw_spark_string_literal(table.path) }} as _file,
            cast(null as bigint) as _line_number
        from {{ table.relation }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    {%- endif -%}
    {%- if declared.get('where') %}
    ) as declared_rows
    where {{ declared.where }}
    {%- endif -%}
{%- endmacro %}
