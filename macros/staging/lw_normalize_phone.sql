{#- A phone number typed in any human format → E.164 ('+' country code +
    national number), or null when it cannot be one.
    Rules, in order:
      '+…'                      → '+' and the digits as written
      '00…'                     → international prefix: '+' and the digits after 00
      11 digits starting with 1 when the calling code is 1 (NANP) → '+' and the digits
      anything else (national)  → '+' calling code and the digits without the
                                  trunk prefix 0
    `calling_code_expr` is the country calling code of the row (e.g. '44'). -#}
{% macro lw_normalize_phone(expr, calling_code_expr) -%}
    {%- set digits = lw_strip_non_digits(expr) -%}
    {%- set candidate -%}
        (case
            when trim({{ expr }}) like '+%' then '+' || {{ digits }}
            when {{ digits }} like '00%' then '+' || substr({{ digits }}, 3)
            when {{ calling_code_expr }} = '1' and length({{ digits }}) = 11 and {{ digits }} like '1%'
                then '+' || {{ digits }}
            else '+' || {{ calling_code_expr }} || trim(leading '0' from {{ digits }})
        end)
    {%- endset -%}
    case when {{ lw_is_valid_id(candidate, 'phone') }} then {{ candidate }} end
{%- endmacro %}
