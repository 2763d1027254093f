{#- The one place that says what a well-formed identifier looks like
    (docs/landing_contract.md). Anything else is quarantined as malformed. -#}
{% macro lw_id_pattern(kind) -%}
    {%- set patterns = {
        'user_id': '^U[0-9]{8}$',
        'cookie_id': '^ck_[0-9a-f]{16}$',
        'device_id': '^dv_[0-9a-f]{16}$',
        'loyalty_card': '^LC[0-9]{10}$',
        'email': '^[a-z0-9._%+-]+@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}$',
        'phone_e164': '^\\+[1-9][0-9]{7,14}$'
    } -%}
    {%- if kind not in patterns -%}
        {{ exceptions.raise_compiler_error("lw_id_pattern: unknown identifier kind '" ~ kind ~ "'; known: " ~ (patterns.keys() | list | join(', '))) }}
    {%- endif -%}
    {{ return(patterns[kind]) }}
{%- endmacro %}
