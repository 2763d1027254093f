{#- File-level incremental landing (DECISIONLOG "Each landing file is read once").

    A demo source's base model (and base_landing__unreadable_lines) is an incremental
    table that reads only the landing files it has not read before: each of its rows
    keeps the file it came from (_lw_file: its path relative to var landing_dir, so a
    landing folder that moves is the same files) with that file's size and modification
    time when it was read (_lw_file_size, _lw_file_modified_at), which is the record of
    what was read. A file is read once, on the run after it lands; JSON / CSV history is
    never parsed again.

    lw_landing_file_batch(source_name, table_name, recorded_source): the landing files of
    the source now (its meta.landing_files.path under var landing_dir), compared with those
    recorded in {{ this }} (its rows of column source = recorded_source, when the model
    holds several sources). Returns {'read': [{file, key, size, modified_at}, ...]}
    (lw_landing_files), the files this run reads:
    - full refresh, a first run, Spark (no incremental tables there), a unit test: every
      file is read;
    - otherwise the files not recorded yet;
    - a recorded file whose size or modification time changed, or that is gone, fails
      the build here, naming the files: its rows would otherwise silently stay those of
      the version read. `lw build --full-refresh` reads every file again as it is now
      (incremental staging models downstream keep a key's first row, so re-reading one
      file alone would not replace its rows there). -#}
{% macro lw_landing_file_batch(source_name, table_name, recorded_source=none) -%}
    {%- set batch = {'read': []} -%}
    {%- if not execute or not lw_landing_rows_carry_file() -%}
        {{ return(batch) }}
    {%- endif -%}
    {%- set current = lw_landing_files(source_name, table_name) -%}
    {%- if not is_incremental() -%}
        {%- do batch.update({'read': current}) -%}
        {{ return(batch) }}
    {%- endif -%}
    {%- set recorded_sql -%}
        select
            _lw_file,
            max(_lw_file_size) as size,
            max(_lw_file_modified_at) as modified_at
        from {{ this }}
        where _lw_file is not null
        {%- if recorded_source %}
            and source = {{ lw_sql_string(recorded_source) }}
        {%- endif %}
        group by _lw_file
    {%- endset -%}
    {%- set recorded = {} -%}
    {%- for row in run_query(recorded_sql).rows -%}
        {%- do recorded.update({row[0]: {'size': row[1], 'modified_at': row[2]}}) -%}
    {%- endfor -%}
    {%- set now = {} -%}
    {%- for landed in current -%}
        {%- do now.update({landed.key: landed}) -%}
    {%- endfor -%}
    {%- set changed = [] -%}
    {%- for file, was in recorded.items() | sort -%}
        {%- set path = file if file.startswith('/') else lw_landing_dir() ~ '/' ~ file -%}
        {%- if file not in now -%}
            {%- do changed.append(path ~ ' is gone (read when it had ' ~ was.size ~ ' bytes, modified ' ~ was.modified_at ~ ')') -%}
        {%- elif now[file].size != was.size or now[file].modified_at != was.modified_at -%}
            {%- do changed.append(path ~ ' changed after it was read (' ~ was.size ~ ' bytes, modified '
                ~ was.modified_at ~ ' when read; now ' ~ now[file].size ~ ' bytes, modified ' ~ now[file].modified_at ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if changed -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ": " ~ changed | length ~ " landing file(s) of source '" ~ source_name
            ~ "' differ from what this build read:\n  " ~ (changed[:10] | join('\n  '))
            ~ ('\n  ...' if changed | length > 10 else '')
            ~ "\nA landing file is read once, on the build after it lands, and must not change afterwards"
            ~ " (its rows would silently stay those of the version read). Restore the file, or land a"
            ~ " correction as a new file; or read every file again as it is now: `lw build --full-refresh`"
            ~ " (dbt build --full-refresh).") }}
    {%- endif -%}
    {%- for file, landed in now.items() | sort if file not in recorded -%}
        {%- do batch.read.append(landed) -%}
    {%- endfor -%}
    {{ return(batch) }}
{%- endmacro %}

{#- The landing files of a demo source now: [{file, key, size, modified_at}] in file
    order (DuckDB read_blob, which reads the metadata only when the content is not
    selected; file: the path read; key: the path relative to var landing_dir, what the
    models record; modified_at as text, UTC, to the second). -#}
{% macro lw_landing_files(source_name, table_name) -%}
    {%- set pattern = lw_landing_pattern(source_name, table_name) -%}
    {%- set files = [] -%}
    {%- if pattern is none -%}{{ return(files) }}{%- endif -%}
    {%- set listed = run_query("select count(*) from glob(" ~ lw_sql_string(pattern) ~ ")").columns[0].values()[0] -%}
    {%- if listed == 0 -%}{{ return(files) }}{%- endif -%}
    {%- set found -%}
        select filename, size, strftime(last_modified at time zone 'UTC', '%Y-%m-%d %H:%M:%S')
        from read_blob({{ lw_sql_string(pattern) }})
        order by filename
    {%- endset -%}
    {%- set prefix = lw_landing_dir() ~ '/' -%}
    {%- for row in run_query(found).rows -%}
        {%- set key = row[0][prefix | length:] if row[0].startswith(prefix) else row[0] -%}
        {%- do files.append({'file': row[0], 'key': key, 'size': row[1], 'modified_at': row[2]}) -%}
    {%- endfor -%}
    {{ return(files) }}
{%- endmacro %}

{#- A demo source's meta.landing_files (format, path, options, text_columns), {} when it
    has none. -#}
{% macro lw_landing_meta(source_name, table_name) -%}
    {%- set landing = {} -%}
    {%- for node in graph.sources.values()
        if node.source_name == source_name and node.name == table_name -%}
        {%- do landing.update(node.meta.landing_files) -%}
    {%- endfor -%}
    {{ return(landing) }}
{%- endmacro %}

{#- The glob of a demo source's landing files (var landing_dir + meta.landing_files.path),
    none when the source has no landing_files meta. -#}
{% macro lw_landing_pattern(source_name, table_name) -%}
    {%- set landing = lw_landing_meta(source_name, table_name) -%}
    {%- if not landing.get('path') -%}{{ return(none) }}{%- endif -%}
    {{ return(landing.path if landing.path.startswith('/') else lw_landing_dir() ~ '/' ~ landing.path) }}
{%- endmacro %}

{#- The landing directory (var landing_dir, else env LW_LANDING_DIR, else data/landing),
    without a trailing slash. -#}
{% macro lw_landing_dir() -%}
    {%- set landing_dir = var('landing_dir', env_var('LW_LANDING_DIR', 'data/landing')) -%}
    {{ return(landing_dir.rstrip('/') or '/') }}
{%- endmacro %}

{#- The files of a batch as a relation (_lw_path: the path read, the rows' join key;
    _lw_file: the file relative to the landing directory; _lw_file_size,
    _lw_file_modified_at), one row per file read in this run: joined to the rows read,
    it is their record. -#}
{% macro lw_landing_files_read(batch) -%}
    {%- if batch.read -%}
    select * from (
        values
        {%- for landed in batch.read %}
        (
            {{ lw_sql_string(landed.file) }}, {{ lw_sql_string(landed.key) }},
            cast({{ landed.size }} as {{ dbt.type_bigint() }}), {{ lw_sql_string(landed.modified_at) }}
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as landing_files (_lw_path, _lw_file, _lw_file_size, _lw_file_modified_at)
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as _lw_path,
        cast(null as {{ dbt.type_string() }}) as _lw_file,
        cast(null as {{ dbt.type_bigint() }}) as _lw_file_size,
        cast(null as {{ dbt.type_string() }}) as _lw_file_modified_at
    where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#- The path of the file a landing row was read from, as a column of its base model
    (_lw_path, joined to lw_landing_files_read): the reader's _lw_path column on DuckDB;
    null where the rows are read whole (Spark, unit tests). -#}
{% macro lw_landing_path_column(relation_alias) -%}
    {%- if lw_landing_rows_carry_file() -%}
        {{ relation_alias }}._lw_path
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- True when lw_landing_rows gives each row its file's path (_lw_path): DuckDB outside
    unit tests. -#}
{% macro lw_landing_rows_carry_file() -%}
    {{ return(target.type == 'duckdb' and model.resource_type != 'unit_test') }}
{%- endmacro %}

{#- The raw record (JSON) of a landing row, given as its struct (lw_row_struct of the
    base model's source alias), without the reader's _lw_path column, so that the same
    row gives the same raw_record whatever file it came in. -#}
{% macro lw_landing_record(landing_row) -%}
    {%- if lw_landing_rows_carry_file() -%}
        cast(json_merge_patch(to_json({{ landing_row }}), '{"_lw_path": null}') as varchar)
    {%- else -%}
        {{ lw_row_to_json(landing_row) }}
    {%- endif -%}
{%- endmacro %}

{#- base_landing__unreadable_lines' rows of one source: its unreadable lines
    (`unreadable_lines`: lw_landing_rows(readable=false, files=batch.read), a subquery
    aliased unreadable_lines) and one row per file of the batch (_line and reject_reason
    null), each with the file's size and modification time when read. -#}
{% macro lw_file_lines(source_name, unreadable_lines, batch) -%}
    select
        {{ lw_sql_string(source_name) }} as source,
        landing_files._lw_file,
        landing_files._lw_file_size,
        landing_files._lw_file_modified_at,
        unreadable_lines._line,
        unreadable_lines.reject_reason
    from {{ unreadable_lines }}
    left join ({{ lw_landing_files_read(batch) }}) as landing_files
        on unreadable_lines._file = landing_files._lw_path
    union all
    select
        {{ lw_sql_string(source_name) }} as source,
        landing_files._lw_file,
        landing_files._lw_file_size,
        landing_files._lw_file_modified_at,
        cast(null as {{ dbt.type_string() }}) as _line,
        cast(null as {{ dbt.type_string() }}) as reject_reason
    from ({{ lw_landing_files_read(batch) }}) as landing_files
{%- endmacro %}
