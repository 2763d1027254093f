{#-
    accepted_values with a list per group: fails for every (group, value) of
    `column_name` whose value is not in values[group], including groups that have no
    list at all and a null group. One query checks every group, e.g. the reject reasons of every
    landing source on the quarantine table instead of one re-parse of each source.

    arguments: group_by (column), values (mapping group -> list of accepted values),
    other_groups and other_values (optional): the groups named by configuration (e.g.
    the declared sources) and the values accepted for each of them. A group in neither
    values nor other_groups fails.
    Null values pass, like accepted_values (pair with not_null).
-#}
{% test accepted_values_by_group(model, column_name, group_by, values, other_groups=none, other_values=none) %}
{%- if values is not mapping or values | length == 0
      or values.values() | select('none') | list | length > 0
      or values.values() | map('length') | select('equalto', 0) | list | length > 0 -%}
    {{ exceptions.raise_compiler_error("accepted_values_by_group on " ~ model ~ "." ~ column_name ~ ": `values` must map each " ~ group_by ~ " to a non-empty list of accepted values, e.g. {web: [missing_event_id]}") }}
{%- endif %}
{#- SQL string literals with embedded quotes doubled -#}
{%- set quote = "'" %}

with checked as (
    select
        {{ group_by }} as group_value,
        {{ column_name }} as value
    from {{ model }}
    where {{ column_name }} is not null
)

select
    group_value,
    value,
    count(*) as n_records
from checked
where not coalesce((
    {%- for group, accepted in values.items() %}
    (group_value = {{ quote ~ (group | replace(quote, quote ~ quote)) ~ quote }} and value in (
        {%- for value in accepted %}{{ quote ~ (value | replace(quote, quote ~ quote)) ~ quote }}{% if not loop.last %}, {% endif %}{% endfor -%}
    ))
    {%- if not loop.last %} or{% endif %}
    {%- endfor %}
    {%- if other_groups and other_values %}
    or (group_value in (
        {%- for group in other_groups %}{{ quote ~ (group | replace(quote, quote ~ quote)) ~ quote }}{% if not loop.last %}, {% endif %}{% endfor -%}
    ) and value in (
        {%- for value in other_values %}{{ quote ~ (value | replace(quote, quote ~ quote)) ~ quote }}{% if not loop.last %}, {% endif %}{% endfor -%}
    ))
    {%- endif %}
), false)
group by group_value, value

{% endtest %}
