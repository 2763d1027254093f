{#- A free-text dimension (web device_type, app platform) mapped to its known values:
    the known value it equals ignoring case and surrounding spaces, null when empty,
    'other' for anything else. One odd value reaching the marts would fail their
    accepted_values tests and block the publish; 'other' is known to them, the raw
    value stays in the base model (source_<column>) for triage. -#}
{% macro lw_known_value(expr, known_values) -%}
    case
        when nullif(trim({{ expr }}), '') is null then null
        {%- for value in known_values %}
        when lower(trim({{ expr }})) = '{{ value | lower }}' then '{{ value }}'
        {%- endfor %}
        else 'other'
    end
{%- endmacro %}
