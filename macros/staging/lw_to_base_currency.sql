{#- Amount in a source currency × rate (seeds/fx_rates.csv, base per unit) →
    decimal(18, 2) in the base currency, rounded half away from zero. -#}
{% macro lw_to_base_currency(amount_expr, rate_expr) -%}
    cast(round(cast({{ amount_expr }} as decimal(18, 4)) * {{ rate_expr }}, 2) as decimal(18, 2))
{%- endmacro %}
