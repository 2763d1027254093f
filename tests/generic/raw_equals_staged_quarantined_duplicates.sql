{#-
    The landing reconciliation (SPEC §4): per source, every raw row is either
    staged, quarantined (with a reject_reason) or removed as a duplicate —
    raw_rows = staged_rows + quarantined_rows + duplicate_rows. A staging bug that
    loses or invents rows (a join that drops rows, a dedup on the wrong key)
    fails here. Model level; the column names are arguments so the test can be
    reused on other reconciliation models.
-#}
{% test raw_equals_staged_quarantined_duplicates(
    model,
    group_by_column='source',
    raw_column='raw_rows',
    staged_column='staged_rows',
    quarantined_column='quarantined_rows',
    duplicate_column='duplicate_rows'
) %}

select
    {{ group_by_column }},
    {{ raw_column }},
    {{ staged_column }},
    {{ quarantined_column }},
    {{ duplicate_column }},
    {{ raw_column }} - ({{ staged_column }} + {{ quarantined_column }} + {{ duplicate_column }}) as unexplained_rows
from {{ model }}
where
    {{ raw_column }} is null
    or {{ staged_column }} is null
    or {{ quarantined_column }} is null
    or {{ duplicate_column }} is null
    or {{ raw_column }} <> {{ staged_column }} + {{ quarantined_column }} + {{ duplicate_column }}

{% endtest %}
