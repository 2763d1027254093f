{#-
    Fails for every non-null value of `column_name` that does not match the
    anchored regular expression `pattern` (e.g. '^[0-9a-f]{64}$' for a sha256
    hex digest). Cross-database through lw_regexp_like.
-#}
{% test matches_pattern(model, column_name, pattern) %}

select {{ column_name }}
from {{ model }}
where
    {{ column_name }} is not null
    and not coalesce({{ lw_regexp_like(column_name, pattern) }}, false)

{% endtest %}
