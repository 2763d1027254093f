{#- Makes every landing source readable as a table (on-run-start hook).

    DuckDB reads the landing files directly through each source's
    meta.external_location (dbt-duckdb), so there is nothing to do. Spark has no such
    thing: a source is a table of its schema, so this (re)creates one table per source
    over the files of meta.landing_files (format, path under var landing_dir or absolute, reader
    options; text_columns declares those columns, all as string, instead of letting
    the reader infer them). Dropped and created on every run: a table over
    files caches their listing, and the landing folder may point elsewhere next run. -#}
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
    {{ return('') }}
{%- endmacro %}
