{#- The SQL of one mapped field of a declared source (docs/sources.md), as text, over the
    raw row `relation_alias`: {column: c} its column, {value: v} the constant, {expression:
    e} the SQL e (a raw column named in it needs no alias). Empty text becomes null.
    None when the field is not mapped: callers give their default. -#}
{% macro lw_mapped(ref, relation_alias='raw') -%}
    {%- if ref is none -%}
        {{ return(none) }}
    {%- elif ref.get('column') is not none -%}
        {{ return("nullif(trim(cast(" ~ relation_alias ~ '.' ~ adapter.quote(ref.column) ~ ' as ' ~ dbt.type_string() ~ ")), '')") }}
    {%- elif ref.get('value') is not none -%}
        {{ return("'" ~ (ref.value | replace("'", "''")) ~ "'") }}
    {%- else -%}
        {{ return("nullif(trim(cast((" ~ ref.expression ~ ") as " ~ dbt.type_string() ~ ")), '')") }}
    {%- endif -%}
{%- endmacro %}

{#- A mapped timestamp field → UTC timestamp (lw_parse_timestamp with its format and
    time zone); null when not mapped or not parseable. -#}
{% macro lw_mapped_timestamp(ref, relation_alias='raw') -%}
    {%- if ref is none -%}
        cast(null as {{ dbt.type_timestamp() }})
    {%- else -%}
        {{ lw_parse_timestamp(lw_mapped(ref, relation_alias), ref.get('format', 'iso8601'), ref.get('time_zone', 'UTC')) }}
    {%- endif -%}
{%- endmacro %}

{#- A mapped money / quantity field → decimal(18, 4); null when not mapped or not a
    number. -#}
{% macro lw_mapped_decimal(ref, relation_alias='raw') -%}
    {%- if ref is none -%}
        cast(null as decimal(18, 4))
    {%- else -%}
        {{ lw_safe_cast(lw_mapped(ref, relation_alias), 'decimal(18, 4)') }}
    {%- endif -%}
{%- endmacro %}

{#- True when a mapped money / quantity field has a value that casts to a number but is
    not written as a plain decimal (1e3, 1_000: lw_is_plain_number); the line is
    quarantined as non_plain_amount. False when not mapped or empty. -#}
{% macro lw_mapped_is_non_plain_decimal(ref, relation_alias='raw') -%}
    {%- if ref is none -%}
        false
    {%- else -%}
        coalesce(not {{ lw_is_plain_number(lw_mapped(ref, relation_alias)) }}, false)
    {%- endif -%}
{%- endmacro %}

{#- A mapped yes/no field → boolean: true when the value is one of its true_values
    (default true, yes, y, 1), case-insensitive; false otherwise, and when not mapped. -#}
{% macro lw_mapped_boolean(ref, relation_alias='raw') -%}
    {%- if ref is none -%}
        false
    {%- else -%}
        {%- set true_values = ref.get('true_values') or ['true', 'yes', 'y', '1'] -%}
        coalesce(lower({{ lw_mapped(ref, relation_alias) }}) in (
            {%- for value in true_values %}'{{ value | lower | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
        ), false)
    {%- endif -%}
{%- endmacro %}

{#- The typed identifier '<type>:<staged value>' of a mapped identifier field (its
    identifier_type says how to normalise and whether to hash); null when absent. -#}
{% macro lw_mapped_identifier(ref, relation_alias='raw', calling_codes=none) -%}
    {{ lw_typed_identifier(ref.identifier_type, lw_normalize_identifier(lw_mapped(ref, relation_alias), ref.identifier_type, calling_codes)) }}
{%- endmacro %}

{#- True when a mapped identifier field is present but not valid for its type (the row
    is quarantined as malformed). -#}
{% macro lw_mapped_identifier_is_malformed(ref, relation_alias='raw', calling_codes=none) -%}
    {%- set value = lw_normalized_identifier_value(lw_mapped(ref, relation_alias), ref.identifier_type, calling_codes) -%}
    ({{ lw_mapped(ref, relation_alias) }} is not null and not {{ lw_is_valid_id(value, ref.identifier_type) }})
{%- endmacro %}
