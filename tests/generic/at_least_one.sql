{#-
    Fails when `column_name` has no non-null value at all: the model is empty or
    the column was never filled (a join or cast that silently nulls everything).
-#}
{% test at_least_one(model, column_name) %}

with

counted as (
    select count({{ column_name }}) as non_null_values
    from {{ model }}
)

select non_null_values
from counted
where non_null_values = 0

{% endtest %}
