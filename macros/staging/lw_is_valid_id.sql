{#- True when `expr` is a well-formed identifier of `kind` (see lw_id_pattern). -#}
{% macro lw_is_valid_id(expr, kind) -%}
    coalesce({{ lw_regexp_like(expr, lw_id_pattern(kind)) }}, false)
{%- endmacro %}
