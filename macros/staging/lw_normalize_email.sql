{#- Trimmed, lower-cased email; empty strings become null. Validity is checked
    separately with lw_is_valid_id(…, 'email'). -#}
{% macro lw_normalize_email(expr) -%}
    nullif(lower(trim({{ expr }})), '')
{%- endmacro %}
