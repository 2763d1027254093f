{#- Incremental building blocks (DECISIONLOG "Incremental models"). One rule set:
    - loaded_at watermark: a model reads the upstream rows loaded after its own
      max(loaded_at) minus var('incremental_lookback_hours'), so rows that reach the
      landing zone out of order (loaded_at a little before the watermark) are still
      picked up; rows already present (same key) are not read twice.
    - change marker: every incremental model stamps the rows it writes with
      dbt_updated_at = the run's start; a downstream model reads the upstream rows with
      dbt_updated_at after its own max(dbt_updated_at). -#}

{#- True for rows loaded after this model's watermark minus the lookback (always true
    on a full refresh). -#}
{% macro lw_loaded_after_watermark(loaded_at_column, watermark_column='loaded_at') -%}
    {%- if is_incremental() -%}
        {{ loaded_at_column }} > (
            select coalesce(
                {{ dbt.dateadd('hour', -var('incremental_lookback_hours'), 'max(' ~ watermark_column ~ ')') }},
                cast('1900-01-01' as {{ dbt.type_timestamp() }})
            )
            from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- True for keys not yet in this model (always true on a full refresh).
    within_window: compare only with this model's rows inside the loaded_at window, for
    a model whose rows keep the loaded_at of the one upstream row they came from (then
    a candidate already here was loaded in the window too): a much smaller set. -#}
{% macro lw_not_yet_loaded(key_expression, key_column, within_window=false) -%}
    {%- if is_incremental() -%}
        {{ key_expression }} not in (
            select {{ key_column }} from {{ this }}
            {%- if within_window %}
            where {{ lw_loaded_after_watermark('loaded_at') }}
            {%- endif %}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The run's start as a timestamp literal: the change marker of the rows written now. -#}
{% macro lw_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- True for upstream rows written after this model last ran (always true on a full
    refresh). -#}
{% macro lw_changed_since_last_run(updated_at_column='dbt_updated_at') -%}
    {%- if is_incremental() -%}
        {{ updated_at_column }} > (
            select coalesce(max(dbt_updated_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
            from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Persons whose user-initiated events changed since this model's previous run: the
    person now holding a changed event and the one that held it before (identity
    re-assignment, rewritten rows). events: the int_events_unioned relation. Run inside
    a post_hook, where this model's previous run is its rows older than this run. -#}
{% macro lw_persons_changed_since_previous_run(events) -%}
    select person_id from {{ events }}
    where
        is_user_initiated and person_id is not null
        and dbt_updated_at > (
            select coalesce(max(dbt_updated_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
            from {{ this }}
            where dbt_updated_at < {{ lw_run_started_at() }}
        )
    union all
    select previous_person_id as person_id from {{ events }}
    where
        is_user_initiated and previous_person_id is not null
        and dbt_updated_at > (
            select coalesce(max(dbt_updated_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
            from {{ this }}
            where dbt_updated_at < {{ lw_run_started_at() }}
        )
{%- endmacro %}

{#- post_hook of a person-grain incremental model (delete+insert on person_id): a changed
    person's rows were all written again by this run, so its rows from earlier runs are
    stale: a person with no events left (merged into another person, or whose events
    moved away) would otherwise keep them. -#}
{% macro lw_delete_stale_person_rows(events) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            dbt_updated_at < {{ lw_run_started_at() }}
            and person_id in ({{ lw_persons_changed_since_previous_run(events) }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Materialization and strategy of the models that rewrite rows by unique key
    (int_events_unioned, int_sessions_built, int_person_days).
    DuckDB: incremental, delete+insert. Databricks (Delta) and other engines with MERGE:
    incremental, merge (the same result for a unique key). Spark on plain parquet
    tables (the local `spark` target) can neither delete nor merge, and the Delta jars
    are not on PyPI: those models are rebuilt as tables on every run there, which gives
    the same rows as the incremental runs (pytests/test_incremental.py). -#}
{% macro lw_upsert_materialization() -%}
    {{ return(adapter.dispatch('lw_upsert_materialization', 'lifecycle_warehouse')()) }}
{%- endmacro %}

{% macro default__lw_upsert_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__lw_upsert_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{% macro databricks__lw_upsert_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro lw_upsert_strategy() -%}
    {{ return(adapter.dispatch('lw_upsert_strategy', 'lifecycle_warehouse')()) }}
{%- endmacro %}

{% macro default__lw_upsert_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro duckdb__lw_upsert_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}
