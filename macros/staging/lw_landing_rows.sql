{#- The rows of a demo landing source (models/staging/<source>/_<source>__sources.yml), read
    line by line with the contract's dialect (docs/landing_contract.md), never sniffed
    (macro lw_read_lines below, which reads the declared sources' csv and json too):

    - CSV: header line, comma, double quote (doubled inside a quoted field), one row per
      line; columns by the header's names (union of every file's header, like
      union_by_name); empty fields are null (as DuckDB's CSV reader gives them);
    - JSON lines: one object per line, the keys of meta.landing_files.text_columns as text;
    - parquet: the source's files (typed, self-describing; read_parquet, union by name).

    files: every file of the source, or only a batch's (lw_landing_file_batch: the files
    a file-incremental model has not read yet); on DuckDB each row carries its file's
    path as _lw_path.

    A line that cannot be read is not a row of the source: readable=false gives those
    lines instead (one row each: _file, _line as text, reject_reason), kept by
    base_landing__unreadable_lines, then quarantined by stg_landing__quarantined_rows and
    counted as raw rows by stg_landing__row_counts.
    Reasons: invalid_utf8 (a byte sequence that is not UTF-8; _line is then the line read
    as latin-1, one character per byte), line_too_long (over var landing_max_line_bytes),
    malformed_csv_row (an unterminated or stray quote, a control character \x01),
    wrong_field_count (more or fewer fields than the file's header: a ragged row),
    malformed_json (not a JSON object). DuckDB reads lines up to 16 MiB; `lw build`
    refuses a file with a longer line before any model runs (lifecycle_warehouse.
    landing_check). Blank lines are no rows. Spark: the source as registered by
    lw_register_landing_tables (its readers), no unreadable lines; a unit test: its given
    source rows, no unreadable lines. -#}
{% macro lw_landing_rows(source_name, table_name, readable=true, files=none) -%}
    {{ return(adapter.dispatch('lw_landing_rows', 'lifecycle_warehouse')(source_name, table_name, readable, files)) }}
{%- endmacro %}

{% macro default__lw_landing_rows(source_name, table_name, readable=true, files=none) -%}
    {%- if readable -%}
        (select * from {{ source(source_name, table_name) }}) as landing_rows
    {%- else -%}
        {{ lw_no_unreadable_lines() }}
    {%- endif -%}
{%- endmacro %}

{% macro lw_no_unreadable_lines() -%}
    (
        select
            cast(null as {{ dbt.type_string() }}) as _file,
            cast(null as {{ dbt.type_string() }}) as _line,
            cast(null as {{ dbt.type_string() }}) as reject_reason
        where 1 = 0
    ) as unreadable_lines
{%- endmacro %}

{#- DuckDB: the rows (or, readable=false, the unreadable lines) of the source's landing
    files, each with the path of the file it came from as column _lw_path: every file,
    or only `files` ([{file, ...}], a batch of lw_landing_file_batch). The columns are
    those of every file of the source now (the union of the CSV headers, the parquet
    files' union by name, the JSON text columns), whichever files are read, so that a
    model over no new file still has them. Parquet: the source's glob with a filter on
    the file name (DuckDB skips the other files). -#}
{% macro duckdb__lw_landing_rows(source_name, table_name, readable=true, files=none) -%}
    {#- the source is named at parse time too (the model's lineage) -#}
    {%- set relation = source(source_name, table_name) -%}
    {#- a unit test gives the source's rows itself (or none: no unreadable lines) -#}
    {%- if model.resource_type == 'unit_test' or not execute -%}
        {{ return(default__lw_landing_rows(source_name, table_name, readable)) }}
    {%- endif -%}
    {%- set landing = lw_landing_meta(source_name, table_name) -%}
    {%- set landed = lw_landing_files(source_name, table_name) -%}
    {%- if not landed -%}
        {#- no files at all (sqlfluff's compile, a landing dir not there yet): the source
            itself, which fails at run time naming the missing files -#}
        {%- if not readable -%}
            {{ return(lw_no_unreadable_lines()) }}
        {%- endif -%}
        {{ return('(select *, cast(null as varchar) as _lw_path from ' ~ relation ~ ') as landing_rows') }}
    {%- endif -%}
    {%- set paths = (landed if files is none else files) | map(attribute='file') | list -%}
    {%- if landing.get('format') not in ('csv', 'json') -%}
        {#- parquet: typed, self-describing; no unreadable lines -#}
        {%- if not readable -%}
            {{ return(lw_no_unreadable_lines()) }}
        {%- endif -%}
    (
        select
            * exclude (filename),
            filename as _lw_path
        from read_parquet({{ lw_sql_string(lw_landing_pattern(source_name, table_name)) }}, union_by_name = true, filename = true)
        where filename in (
            {%- for path in paths %}{{ lw_sql_string(path) }}{{ ', ' if not loop.last }}{% endfor -%}
            {%- if not paths %}null{% endif -%}
        )
    ) as landing_rows
    {%- elif not readable -%}
        {%- if not paths -%}
            {{ return(lw_no_unreadable_lines()) }}
        {%- endif -%}
    (
        {{ lw_read_lines(paths, landing.format, 'unreadable', {}) }}
    ) as unreadable_lines
    {%- else -%}
        {%- set dialect = {'json_text_columns': landing.get('text_columns'), 'lw_file_column': true} -%}
        {%- set columns = landing.get('text_columns') or [] -%}
        {%- if landing.format == 'csv' -%}
            {%- set columns = [] -%}
            {%- for file in landed -%}
                {%- for name in lw_csv_header(file.file, {}) if name not in columns -%}
                    {%- do columns.append(name) -%}
                {%- endfor -%}
            {%- endfor -%}
            {%- do dialect.update({'columns': columns}) -%}
        {%- endif -%}
        {%- if paths %}
    (
        {{ lw_read_lines(paths, landing.format, 'rows', dialect) }}
    ) as landing_rows
        {%- else %}
    (
        {#- no file to read: no rows, the same columns -#}
        select
            {%- for column in columns %}
            cast(null as varchar) as "{{ column }}",
            {%- endfor %}
            cast(null as varchar) as _lw_path
        where 1 = 0
    ) as landing_rows
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- DuckDB: the SQL (a query) reading `files` (a list of paths) line by line, in format
    'csv' or 'json', with the dialect `dialect` (all keys optional):
    - csv: delimiter (','), quote ('"', doubled inside a quoted field), header (true:
      the first line names the columns; false: names, the columns in order, for every
      file); columns by name, the union of every file's header; empty fields are null;
    - json: json_text_columns (these keys as text) or json_structure (a
      json_transform structure: the keys typed, nested objects as structs);
    - file_columns: true adds filename and _file (the file) and _line_number (null).
    output 'rows': the readable lines as rows; 'unreadable': the other lines (_file,
    _line, reject_reason); 'objects' (json): the readable lines as text (_file, _line).
    The reasons are those of lw_landing_rows. Shared by the demo sources
    (lw_landing_rows) and the declared ones (lw_declared_read). -#}
{% macro lw_read_lines(files, format, output, dialect) -%}
        {%- set csv = format == 'csv' -%}
        {%- set delimiter = dialect.get('delimiter') or ',' -%}
        {%- set quote = dialect.get('quote') or '"' -%}
        {%- set header = dialect.get('header', true) -%}
        {%- set lines_dialect = lw_lines_dialect() -%}
        {#- each file's header names (CSV), in file order; columns: their union -#}
        {%- set headers = {} -%}
        {%- set columns = [] -%}
        {%- if csv -%}
            {%- for file in files -%}
                {%- set names = lw_csv_header(file, dialect) -%}
                {%- do headers.update({file: names}) -%}
                {%- for name in names if name not in columns -%}
                    {%- do columns.append(name) -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- else -%}
            {%- set columns = dialect.get('json_text_columns') or [] -%}
        {%- endif -%}
        {%- if dialect.get('columns') is not none -%}
            {#- the caller's columns (the union of every file of the source, not only of these) -#}
            {%- set columns = dialect.columns -%}
        {%- endif -%}
        {#- the CSV dialect as regular expressions (RE2): delimiter and quote escaped -#}
        {%- set special = '\\^$.|?*+()[]{}-' -%}
        {%- set d = ('\\' ~ delimiter) if delimiter in special else delimiter -%}
        {%- set q = ('\\' ~ quote) if quote in special else quote -%}
        {%- set quoted_field = q ~ '(?:[^' ~ q ~ ']|' ~ q ~ q ~ ')*' ~ q -%}
        {%- set plain_field = '[^' ~ d ~ q ~ ']*' -%}
        with

        lw_lines as (
            select
                filename as _file,
                line as _latin1_line,
                after_control as _after_control
            from read_csv(
                [{%- for file in files %}{{ lw_sql_string(file) }}{{ ', ' if not loop.last }}{% endfor -%}],
                columns = {'line': 'varchar', 'after_control': 'varchar'},
                header = {{ 'true' if csv and header else 'false' }},
                auto_detect = false,
                filename = true,
                {{ lines_dialect }}
            )
        ),

        lw_decoded as (
            select
                _file,
                _latin1_line,
                _after_control,
                -- the file read as latin-1 (never fails); lines with bytes >= 0x80 are
                -- decoded again as UTF-8 from those bytes: null when they are not UTF-8
                case
                    when strlen(_latin1_line) = length(_latin1_line) then _latin1_line  -- ASCII
                    else try(decode(unhex(array_to_string(list_transform(
                        string_split(_latin1_line, ''), lambda character: lpad(to_hex(ord(character)), 2, '0')
                    ), ''))))
                end as _line
            from lw_lines
        ),

        lw_parsed as (
            select
                *,
                {%- if csv %}
                case
                    when _line is null or _after_control is not null then null
                    when not contains(_line, {{ lw_sql_string(quote) }}) then string_split(_line, {{ lw_sql_string(delimiter) }})
                    when regexp_full_match(_line, {{ lw_sql_string('(?:' ~ quoted_field ~ '|' ~ plain_field ~ ')(?:' ~ d ~ '(?:' ~ quoted_field ~ '|' ~ plain_field ~ '))*') }})
                        then list_transform(
                            regexp_extract_all(_line, {{ lw_sql_string('(?:^|' ~ d ~ ')(' ~ quoted_field ~ '|' ~ plain_field ~ ')') }}, 1),
                            lambda field: case
                                when starts_with(field, {{ lw_sql_string(quote) }})
                                    then replace(substr(field, 2, length(field) - 2), {{ lw_sql_string(quote ~ quote) }}, {{ lw_sql_string(quote) }})
                                else field
                            end
                        )
                end as _fields
                {%- else %}
                _line is not null
                and _after_control is null
                and coalesce(json_valid(_line), false)
                and json_type(case when coalesce(json_valid(_line), false) then _line end) = 'OBJECT'
                    as _is_object
                {%- endif %}
            from lw_decoded
        ),

        lw_checked as (
            select
                *,
                case
                    when _line is null then 'invalid_utf8'
                    when strlen(_line) > {{ var('landing_max_line_bytes', 1048576) }} then 'line_too_long'
                    {%- if csv %}
                    when _fields is null then 'malformed_csv_row'
                    when len(_fields) <> case _file
                        {%- for file in files %}
                        when {{ lw_sql_string(file) }} then {{ headers[file] | length }}
                        {%- endfor %}
                    end then 'wrong_field_count'
                    {%- else %}
                    when not _is_object then 'malformed_json'
                    {%- endif %}
                end as _read_error
            from lw_parsed
        )

        {% if output == 'rows' -%}
        select
            {%- for column in columns %}
            {%- if csv %}
            nullif(case _file
                {%- for file in files if column in headers[file] %}
                when {{ lw_sql_string(file) }} then _fields[{{ headers[file].index(column) + 1 }}]
                {%- endfor %}
            end, '') as "{{ column }}"
            {%- else %}
            _values[{{ loop.index }}] as "{{ column }}"
            {%- endif %}
            {%- if not loop.last or dialect.get('file_columns') or dialect.get('lw_file_column') %},{% endif %}
            {%- endfor %}
            {%- if dialect.get('json_structure') %}
            unnest(json_transform(_line, {{ lw_sql_string(dialect.json_structure) }})),
            {%- endif %}
            {%- if dialect.get('file_columns') %}
            _file as filename,
            _file,
            cast(null as bigint) as _line_number
            {%- endif %}
            {%- if dialect.get('lw_file_column') %}
            _file as _lw_path
            {%- endif %}
        {%- if csv or dialect.get('json_structure') %}
        from lw_checked
        where _read_error is null
        {%- else %}
        from (
            -- one parse of the line for every key
            select
                _file,
                json_extract_string(_line, [
                    {%- for column in columns -%}
                    {{ lw_sql_string('$."' ~ column ~ '"') }}{{ ', ' if not loop.last }}
                    {%- endfor -%}
                ]) as _values
            from lw_checked
            where _read_error is null
        ) as lw_json
        {%- endif %}
        {%- elif output == 'objects' -%}
        select
            _file,
            _line
        from lw_checked
        where _read_error is null
        {%- else -%}
        select
            _file,
            coalesce(_line, _latin1_line) as _line,
            _read_error as reject_reason
        from lw_checked
        where _read_error is not null
        {%- endif %}
{%- endmacro %}

{#- The column names of one CSV file (lw_read_lines' dialect): its header line's fields,
    or the dialect's names when the files have no header. -#}
{% macro lw_csv_header(file, dialect) -%}
    {%- set names = [] -%}
    {%- if dialect.get('header', true) and execute -%}
        {%- set first_line = run_query(
            "select column_name from (describe select * from read_csv(" ~ lw_sql_string(file)
            ~ ", header = true, all_varchar = true, " ~ lw_lines_dialect() ~ ")) limit 1").columns[0].values()[0] -%}
        {%- do names.extend(lw_csv_header_names(first_line, dialect)) -%}
    {%- else -%}
        {%- do names.extend(dialect.get('names') or []) -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{#- The union of the header names of CSV files (lw_read_lines' dialect), in order of
    first appearance: what the landing files of a CSV source carry, for the drift test
    (no_unexpected_columns). Read 16 files per query: DuckDB reserves a read buffer
    (32 MiB, for lines up to 16 MiB) per file while it unions the files' schemas, so one
    query over every file ran out of memory at 162 files (the 100M benchmark). -#}
{% macro lw_csv_headers(files, dialect={}) -%}
    {%- set names = [] -%}
    {%- for chunk in files | batch(16) if execute -%}
        {%- set quoted = [] -%}
        {%- for file in chunk -%}{%- do quoted.append(lw_sql_string(file) | trim) -%}{%- endfor -%}
        {%- set listed = quoted | join(', ') -%}
        {%- set described = run_query(
            "select column_name from (describe select * from read_csv([" ~ listed
            ~ "], header = true, all_varchar = true, union_by_name = true, "
            ~ lw_lines_dialect() ~ "))") -%}
        {%- for header_line in described.columns[0].values() -%}
            {%- for name in lw_csv_header_names(header_line, dialect) if name not in names -%}
                {%- do names.append(name) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- The column names in one CSV header line: its fields split at the dialect's
    delimiter (','), trimmed and unquoted ('"'); lw_csv_header and lw_csv_headers. -#}
{% macro lw_csv_header_names(header_line, dialect) -%}
    {%- set delimiter = dialect.get('delimiter') or ',' -%}
    {%- set quote = dialect.get('quote') or '"' -%}
    {%- set names = [] -%}
    {%- for name in header_line.split(delimiter) -%}
        {%- do names.append(name.strip().strip(quote)) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- read_csv's options that read a file as lines, one varchar per line (no quoting, no
    escapes, latin-1 so that any byte reads): lw_read_lines and lw_csv_header. -#}
{% macro lw_lines_dialect() -%}
    {{ return("delim = e'\\x01', quote = '', escape = '', encoding = 'latin-1', "
        ~ "nullstr = e'\\x02\\x03', null_padding = true, strict_mode = false, max_line_size = 16777216, buffer_size = 33554432") }}
{%- endmacro %}

{% macro lw_sql_string(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}
