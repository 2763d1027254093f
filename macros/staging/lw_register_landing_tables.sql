{#- Makes every landing source readable as a table (on-run-start hook).

    DuckDB reads the landing files directly through each source's
    meta.external_location (dbt-duckdb), so there is nothing to do. Spark has no such
    thing: a source is a table of its schema, so this (re)creates one table per source
    over the files of meta.landing_files (format, path under var landing_dir or absolute, reader
    options; text_columns declares those columns, all as string, instead of letting
    the reader infer them). Dropped and created on every run: a table over
    files caches their listing, and the landing folder may point elsewhere next run.

    Declared sources (vars transaction_sources, event_sources, profile_sources, read by
    lw_declared_read): one table per declared file, lw_declared.<source>__<n> (n = 1, 2, …
    in the order of the declaration's paths; lw_declared_file_tables names them). Spark
    SQL's OPTIONS (path …) takes one path, and a directory + glob would both read files
    the declaration does not list and name each row's file only by its URI
    (input_file_name(): file: scheme, percent-encoded); one table per file keeps exactly
    the declared files and lets spark__lw_declared_read write each file's path as DuckDB
    does (a literal) and union the files by column name (DuckDB's union_by_name). -#}
{% macro lw_register_landing_tables() -%}
    {{ return(adapter.dispatch('lw_register_landing_tables', 'lifecycle_warehouse')()) }}
{%- endmacro %}

{% macro default__lw_register_landing_tables() -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__lw_register_landing_tables() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set landing_dir = var('landing_dir', env_var('LW_LANDING_DIR', 'data/landing')) -%}
    {#- graph.sources holds the enabled sources only (the demo sources of var demo_sources) -#}
    {%- for source_node in graph.sources.values()
        if source_node.package_name == project_name and source_node.meta.get('landing_files') -%}
        {%- set files = source_node.meta['landing_files'] -%}
        {%- set relation = source_node.schema ~ '.' ~ source_node.identifier -%}
        {#- a relative path is under the landing directory; an absolute one stands alone -#}
        {%- set path = files['path'] if files['path'].startswith('/') else landing_dir ~ '/' ~ files['path'] -%}
        {%- set options = {'path': path} -%}
        {%- do options.update(files.get('options', {})) -%}
        {%- set columns = [] -%}
        {%- for column_name in files.get('text_columns', []) -%}
            {%- do columns.append(column_name ~ ' string') -%}
        {%- endfor -%}
        {%- do run_query('create schema if not exists ' ~ source_node.schema) -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- set create -%}
            create table {{ relation }}
            {%- if columns %} ({{ columns | join(', ') }}){% endif %}
            using {{ files['format'] }}
            options ({% for key, value in options.items() %}{{ key }} '{{ value }}'{{ ', ' if not loop.last }}{% endfor %})
        {%- endset -%}
        {%- do run_query(create) -%}
    {%- endfor -%}
    {{ lw_register_declared_tables() }}
    {{ return('') }}
{%- endmacro %}

{#- The per-file tables of a declared source on Spark: a list of {relation (quoted),
    schema, identifier, path}, one
    per declared file, in the order of declared.paths (registered by
    lw_register_declared_tables, read by spark__lw_declared_read). -#}
{% macro lw_declared_file_tables(declared) -%}
    {%- set tables = [] -%}
    {%- for path in declared.paths -%}
        {%- set identifier = declared.name ~ '__' ~ loop.index -%}
        {%- do tables.append({
            'relation': 'lw_declared.`' ~ identifier ~ '`',
            'schema': 'lw_declared',
            'identifier': identifier,
            'path': path,
        }) -%}
    {%- endfor -%}
    {{ return(tables) }}
{%- endmacro %}

{#- A Spark SQL string literal of `value` (backslashes and single quotes escaped). -#}
{% macro lw_spark_string_literal(value) -%}
    '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- (Re)creates schema lw_declared with one table per file of every declared source
    (Spark; see lw_register_landing_tables). Readers, never sniffing:
    - csv: the declared delimiter, quote (also the escape character, as DuckDB's
      default) and header; quoted fields may hold line breaks (multiLine). With a header
      each file's own header names its columns and no schema is declared, so every
      column is a string (inferSchema is off) and files are later matched by name; without
      one, the declared options.columns, all string.
    - parquet and json (JSON lines): the files' own types, nested objects as structs.
    - text: the whole file as one row (wholetext), column value; spark__lw_declared_read
      splits it into lines.
    The schema is dropped first: tables of sources no longer declared go with it.
    declared_sources: the declared sources (default: those of the three vars). -#}
{% macro lw_register_declared_tables(declared_sources=none) -%}
    {%- if declared_sources is none -%}
        {%- set declared_sources = [] -%}
        {%- for kind in ['transaction_sources', 'event_sources', 'profile_sources'] -%}
            {%- for declared in var(kind, []) -%}
                {%- do declared_sources.append(declared) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do run_query('drop schema if exists lw_declared cascade') -%}
    {%- if not declared_sources -%}{{ return('') }}{%- endif -%}
    {%- do run_query('create schema if not exists lw_declared') -%}
    {%- for declared in declared_sources -%}
        {%- set declared_options = declared.get('options', {}) -%}
        {%- set columns = [] -%}
        {%- if declared.format == 'csv' -%}
            {%- set header = declared_options.get('header', true) -%}
            {%- set quote = declared_options.get('quote', '"') -%}
            {%- set options = {
                'header': 'true' if header else 'false',
                'sep': declared_options.get('delimiter', ','),
                'quote': quote,
                'escape': quote,
                'multiLine': 'true',
            } -%}
            {%- if not header -%}
                {%- for column_name in declared_options['columns'] -%}
                    {%- do columns.append('`' ~ column_name ~ '` string') -%}
                {%- endfor -%}
            {%- endif -%}
            {%- set reader = 'csv' -%}
        {%- elif declared.format == 'parquet' -%}
            {%- set options = {} -%}
            {%- set reader = 'parquet' -%}
        {%- elif declared.format == 'json' -%}
            {%- set options = {} -%}
            {%- set reader = 'json' -%}
        {%- elif declared.format == 'text' -%}
            {%- set options = {'wholetext': 'true'} -%}
            {%- set reader = 'text' -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("declared source '" ~ declared.name ~ "': unknown format '" ~ declared.format ~ "' (csv, parquet, json, text)") }}
        {%- endif -%}
        {%- for table in lw_declared_file_tables(declared) -%}
            {%- set create -%}
                create table {{ table.relation }}
                {%- if columns %} ({{ columns | join(', ') }}){% endif %}
                using {{ reader }}
                options (path {{ lw_spark_string_literal(table.path) }}
                {%- for key, value in options.items() %}, {{ key }} {{ lw_spark_string_literal(value) }}{% endfor %})
            {%- endset -%}
            {%- do run_query(create) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
