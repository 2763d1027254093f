{#- True when the text `expr` is a number written plainly: an optional sign, digits
    and, unless `integer`, an optional decimal point with digits (12.99, -3, .5), around
    spaces trimmed. Scientific notation (1e3), digit separators (1_000) and, for a
    count, decimals (1.5) are not: the casts would read them as 1000, 1000 and 2, so
    such a value is quarantined as non_plain_amount instead of counted as money.
    Null for a null value. -#}
{% macro lw_is_plain_number(expr, integer=false) -%}
    {%- if integer -%}
        {{ lw_regexp_like('trim(' ~ expr ~ ')', '^[+-]?[0-9]+$') }}
    {%- else -%}
        {{ lw_regexp_like('trim(' ~ expr ~ ')', '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)$') }}
    {%- endif -%}
{%- endmacro %}
