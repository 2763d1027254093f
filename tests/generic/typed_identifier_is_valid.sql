{#- Fails for every typed identifier of `column_name` whose type is not in var
    identifier_types or whose value is not what its type allows: a hashed type's value a
    sha256 hex, another type's its pattern (none: any non-empty value). -#}
{% test typed_identifier_is_valid(model, column_name) %}
{%- set types = var('identifier_types') %}

with split as (
    select
        {{ column_name }} as identifier,
        {{ lw_identifier_type(column_name) }} as identifier_type,
        substr({{ column_name }}, length({{ lw_identifier_type(column_name) }}) + 2) as identifier_value
    from {{ model }}
    where {{ column_name }} is not null
)

select
    identifier_type,
    identifier,
    count(*) as n_records
from split
where not coalesce(case identifier_type
    {%- for name in types.keys() | sort %}
    {%- set settings = types[name] %}
    when '{{ name }}' then
        {%- if settings.get('hashed') %} {{ lw_regexp_like('identifier_value', '^[0-9a-f]{64}$') }}
        {%- elif settings.get('pattern') is not none %} {{ lw_regexp_like('identifier_value', settings['pattern']) }}
        {%- else %} identifier_value <> ''
        {%- endif %}
    {%- endfor %}
    else false
end, false)
group by identifier_type, identifier

{% endtest %}
