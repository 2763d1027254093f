{#- The file name of path `path_expr` without its directories. -#}
{% macro lw_file_basename(path_expr) -%}
    {{ return(adapter.dispatch('lw_file_basename', 'lifecycle_warehouse')(path_expr)) }}
{%- endmacro %}

{% macro default__lw_file_basename(path_expr) -%}
    regexp_extract({{ path_expr }}, '[^/]*$', 0)
{%- endmacro %}

{% macro duckdb__lw_file_basename(path_expr) -%}
    parse_filename({{ path_expr }})
{%- endmacro %}
