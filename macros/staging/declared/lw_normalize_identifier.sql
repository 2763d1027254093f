{#- The staged value of identifier `expr` of type `identifier_type`: normalised as its
    type says (var identifier_types: none, trim, lower, email, e164) and, for a hashed
    type, its sha256. Empty strings become null. calling_codes: the relation or CTE name
    with country_code and calling_code (an import CTE of ref('country_codes') in the
    calling model) that an e164 type reads; the macro never ref()s it. -#}
{% macro lw_normalize_identifier(expr, identifier_type, calling_codes=none) -%}
    {{ lw_hash_identifier_if_configured(lw_normalized_identifier_value(expr, identifier_type, calling_codes), identifier_type) }}
{%- endmacro %}

{#- The normalised (not yet hashed) value of identifier `expr` of type `identifier_type`. -#}
{% macro lw_normalized_identifier_value(expr, identifier_type, calling_codes=none) -%}
    {%- set normalise = lw_identifier_type_config(identifier_type).get('normalise', 'trim') -%}
    {%- if normalise == 'none' -%}
        nullif({{ expr }}, '')
    {%- elif normalise == 'trim' -%}
        nullif(trim({{ expr }}), '')
    {%- elif normalise == 'lower' -%}
        nullif(lower(trim({{ expr }})), '')
    {%- elif normalise == 'email' -%}
        {{ lw_normalize_email(expr) }}
    {%- elif normalise == 'e164' -%}
        {#- a number without a country: var default_country_code's calling code -#}
        {%- if calling_codes is none -%}
            {{ exceptions.raise_compiler_error("identifier type '" ~ identifier_type ~ "' normalises to E.164 and needs the country calling codes. Fix: pass calling_codes (an import CTE of ref('country_codes') in the model) to the macro that stages it") }}
        {%- endif -%}
        {{ lw_normalize_phone(
            expr,
            "(select calling_code from " ~ calling_codes ~ " where country_code = '" ~ var('default_country_code') ~ "')"
        ) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("identifier type '" ~ identifier_type ~ "': unknown normalise '" ~ normalise ~ "' (none, trim, lower, email, e164)") }}
    {%- endif -%}
{%- endmacro %}

{#- sha256 of `expr` when identifier type `identifier_type` is configured hashed. -#}
{% macro lw_hash_identifier_if_configured(expr, identifier_type) -%}
    {%- if lw_identifier_type_config(identifier_type).get('hashed', false) -%}
        {{ lw_hash_pii(expr) }}
    {%- else -%}
        {{ expr }}
    {%- endif -%}
{%- endmacro %}
