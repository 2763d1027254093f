{#- sha256 of an already-normalised PII value, null-safe. The only form in
    which email and phone leave staging. -#}
{% macro lw_hash_pii(normalised_expr) -%}
    case when {{ normalised_expr }} is not null then {{ lw_sha256(normalised_expr) }} end
{%- endmacro %}
