{#-
    Fails for every combination of `combination_of_columns` that occurs more
    than once: the composite primary key of the model. Nulls count as values
    (a null in a key column is a duplicate of another null), so pair it with
    not_null on the key columns where they must be set.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') -%}

with

grouped as (
    select
        {{ columns_csv }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns_csv }}
)

select *
from grouped
where occurrences > 1

{% endtest %}
