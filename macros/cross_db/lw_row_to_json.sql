{#- The whole row of `relation_alias` as a JSON string (the raw record kept
    in quarantine). Includes columns added by schema drift. -#}
{% macro lw_row_to_json(relation_alias) -%}
    {{ return(adapter.dispatch('lw_row_to_json', 'lifecycle_warehouse')(relation_alias)) }}
{%- endmacro %}

{% macro default__lw_row_to_json(relation_alias) -%}
    to_json(struct({{ relation_alias }}.*))
{%- endmacro %}

{% macro duckdb__lw_row_to_json(relation_alias) -%}
    cast(to_json({{ relation_alias }}) as varchar)
{%- endmacro %}
