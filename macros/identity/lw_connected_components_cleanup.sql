{#- Post-hook: drops the work tables of lw_connected_components. -#}
{% macro lw_connected_components_cleanup() -%}
    {%- if execute -%}
        {%- set work = lw_connected_components_work_relations() -%}
        {%- do adapter.drop_relation(work.edges) -%}
        {%- do adapter.drop_relation(work.labels[0]) -%}
        {%- do adapter.drop_relation(work.labels[1]) -%}
    {%- endif -%}
    select 1 as cleaned_up
{%- endmacro %}
