{#- The distinct-free list of `expr` in an aggregate, sorted by its own value and joined
    with `delimiter` ('a,b,c'). dbt.listagg with an order by on every engine but Spark,
    whose dbt.listagg ignores the order (collect_list order depends on the shuffle):
    there the collected array is sorted before it is joined. -#}
{% macro lw_sorted_listagg(expr, delimiter=',') -%}
    {{ return(adapter.dispatch('lw_sorted_listagg', 'lifecycle_warehouse')(expr, delimiter)) }}
{%- endmacro %}

{% macro default__lw_sorted_listagg(expr, delimiter) -%}
    {{ dbt.listagg(expr, "'" ~ delimiter ~ "'", "order by " ~ expr) }}
{%- endmacro %}

{% macro spark__lw_sorted_listagg(expr, delimiter) -%}
    array_join(array_sort(collect_list({{ expr }})), '{{ delimiter }}')
{%- endmacro %}
