{#- person_id of a CDNOW customer: the md5 of the typed identifier
    'customer:<id>', the same rule as every other person (md5 of the component's
    smallest identifier; a CDNOW customer is a component of one identifier). -#}
{% macro lw_cdnow_person_id(customer_id_expr) -%}
    {{ dbt.hash("'customer:' || " ~ customer_id_expr) }}
{%- endmacro %}
