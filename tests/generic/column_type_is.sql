{#-
    Fails when `column_name` of the built relation does not have the type
    `data_type` (compared lower-case without spaces, so 'decimal(18, 2)' matches
    DuckDB's 'DECIMAL(18,2)'). Guards money columns: they must be exact
    decimals, never double, so equal amounts tie exactly.
    One row is returned on mismatch, naming the actual type.
-#}
{% test column_type_is(model, column_name, data_type) %}

{%- set expected_type = data_type | lower | replace(' ', '') -%}
{%- set state = namespace(actual_type='column not found') -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- if column.name | lower == column_name | lower -%}
            {%- set state.actual_type = column.data_type | lower | replace(' ', '') -%}
        {%- endif -%}
    {%- endfor -%}
{%- else -%}
    {%- set state.actual_type = expected_type -%}
{%- endif -%}

with

checked as (
    select
        '{{ column_name }}' as column_name,
        '{{ state.actual_type }}' as actual_type,
        '{{ expected_type }}' as expected_type
)

select *
from checked
where actual_type <> expected_type

{% endtest %}
