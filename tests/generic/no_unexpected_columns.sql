{#-
    Schema drift report for a landing source: one failing row per column the files
    carry that the contract (docs/landing_contract.md) does not list. Staging reads
    columns by name, so drift is tolerated; configure this test with severity warn so
    the build reports it without stopping. The column list comes from the relation
    itself (`select * … limit 0`), which works for any adapter and any file format.
-#}
{% test no_unexpected_columns(model, expected_columns) %}

{%- set unexpected = [] -%}
{%- if execute -%}
    {%- set expected = expected_columns | map('lower') | list -%}
    {%- for column in run_query("select * from " ~ model ~ " limit 0").column_names -%}
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
