{#- The work tables lw_connected_components uses beside the current model. -#}
{% macro lw_connected_components_work_relations() -%}
    {%- set relations = {
        'edges': api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__cc_edges', type='table'),
        'labels': [
            api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__cc_a', type='table'),
            api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__cc_b', type='table')
        ]
    } -%}
    {{ return(relations) }}
{%- endmacro %}
