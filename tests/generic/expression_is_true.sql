{#-
    Fails for every row where the boolean SQL `expression` is not true (false or
    null). To check a subset, use the test config `where`. Model level: refer to
    columns by name. Write engine-specific parts with the cross-database macros
    (dbt.dateadd, lw_regexp_like …) rendered in the YAML argument, never as
    DuckDB-only SQL.
-#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where
    not coalesce(({{ expression }}), false)

{% endtest %}
