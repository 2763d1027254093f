{#- Data tests of an incremental run check the rows that run wrote (DECISIONLOG "Data
    tests of an incremental run check that run's rows").

    dbt reads the model of every generic test through get_where_subquery(relation); this
    project's version (dispatch search order: this project first) keeps dbt's `where`
    config and adds lw_test_run_scope's condition. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set run_scope = lw_test_run_scope(relation) -%}
    {%- if run_scope -%}
        {%- do conditions.append(run_scope) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' as lw_tested where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The condition that scopes a generic test to the rows its model's last run wrote, or
    '' for a whole-table test. Scoped: a test on an incremental model (every one stamps
    its rows with dbt_updated_at, the run's start), on a run without --full-refresh and
    with var test_scope 'run' (the default):
    - unique / unique_combination_of_columns: every row whose key is a key of the run's
      rows (a new key that repeats an old one is caught; old rows were tested when they
      were written). Key columns compare with `is not distinct from`: the combination
      test counts nulls as values;
    - any other test: the run's rows, dbt_updated_at = the model's latest.
    A full refresh stamps every row alike, so its tests see whole tables. Always
    whole-table: at_least_one (a run may write no row), tests on tables, views and
    sources, and every test when var test_scope is 'all' (`lw build --whole-table-tests`,
    the weekly run of docs/testing.md). The tested relation is aliased lw_tested
    (default__get_where_subquery). -#}
{% macro lw_test_run_scope(relation) -%}
    {%- set whole_table_tests = ['at_least_one'] -%}
    {%- set key_tests = {'unique': 'column_name', 'unique_combination_of_columns': 'combination_of_columns'} -%}
    {%- if var('test_scope') not in ['run', 'all'] -%}
        {%- do exceptions.raise_compiler_error(
            "var test_scope is " ~ var('test_scope') ~ ": use 'run' (data tests of an "
            ~ "incremental run check the rows it wrote) or 'all' (every test on whole tables)") -%}
    {%- endif -%}
    {%- if flags.FULL_REFRESH or var('test_scope') == 'all' or not execute -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set test_metadata = model.test_metadata or {} -%}
    {%- set test_name = test_metadata.get('name') -%}
    {%- set tested = graph.nodes.get(model.attached_node or '') -%}
    {%- if test_name in whole_table_tests or tested is none
        or tested.config.materialized != 'incremental'
        or (tested.alias or tested.name) | lower != relation.identifier | lower -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set run_rows = 'select * from ' ~ relation ~ ' where dbt_updated_at = (select max(dbt_updated_at) from '
        ~ relation ~ ')' -%}
    {%- if test_name in key_tests -%}
        {%- set keys = test_metadata.kwargs[key_tests[test_name]] -%}
        {%- set keys = [keys] if keys is string else keys -%}
        {%- set matches = [] -%}
        {%- for key in keys -%}
            {%- do matches.append('lw_run_rows.' ~ key ~ ' is not distinct from lw_tested.' ~ key) -%}
        {%- endfor -%}
        {%- do return('exists (select 1 from (' ~ run_rows ~ ') as lw_run_rows where ' ~ matches | join(' and ') ~ ')') -%}
    {%- endif -%}
    {%- do return('lw_tested.dbt_updated_at = (select max(dbt_updated_at) from ' ~ relation ~ ')') -%}
{%- endmacro %}
