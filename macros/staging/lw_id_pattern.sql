{#- The validity pattern of identifier type `identifier_type`, from var
    identifier_types (dbt_project.yml, or a sources file): none when the type accepts
    any value. Anything that does not match is quarantined as malformed. -#}
{% macro lw_id_pattern(identifier_type) -%}
    {{ return(lw_identifier_type_config(identifier_type).get('pattern')) }}
{%- endmacro %}
