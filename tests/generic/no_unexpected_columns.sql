{#-
    Schema drift report for a landing source: one failing row per column the files
    carry that the contract (docs/landing_contract.md) does not list. Staging reads
    columns by name, so drift is tolerated; configure this test with severity warn so
    the build reports it without stopping. The column list comes from the relation
    itself (`select * … limit 0`), which works for any adapter and any file format;
    on DuckDB, a demo source of CSV files (meta.landing_files format csv) is read by
    its files' header lines instead (lw_csv_headers), 16 files at a time: the
    relation's union of every file's schema reserves a read buffer per file, which ran
    out of memory at 162 files.
-#}
{% test no_unexpected_columns(model, expected_columns) %}

{%- set unexpected = [] -%}
{%- if execute -%}
    {%- set expected = expected_columns | map('lower') | list -%}
    {%- set csv_files = [] -%}
    {%- if target.type == 'duckdb' -%}
        {%- for node in graph.sources.values()
            if node.name == model.identifier and node.schema == model.schema
            and (node.meta.landing_files or {}).get('format') == 'csv' -%}
            {%- for landed in lw_landing_files(node.source_name, node.name) -%}
                {%- do csv_files.append(landed.file) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set columns = lw_csv_headers(csv_files) if csv_files
        else run_query("select * from " ~ model ~ " limit 0").column_names -%}
    {%- for column in columns -%}
        {%- if column | lower not in expected -%}
            {%- do unexpected.append(column | lower) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}

{%- if unexpected %}
    {%- for column in unexpected %}
        select '{{ column }}' as unexpected_column
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- else %}
    select cast(null as {{ dbt.type_string() }}) as unexpected_column
    where 1 = 0
{%- endif %}

{% endtest %}
