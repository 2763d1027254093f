{#- A deterministic number in [0, 1) for (salt, key): the first 8 hex digits of
    md5(salt || ':' || key) read as an unsigned 32-bit integer, divided by 2^32.
    The same on every engine (md5 and hex parsing are standard), and mirrored in
    Python by lifecycle_warehouse.activation.holdout.holdout_unit, which the generator uses to
    plant a campaign effect on exactly the persons the warehouse treats. A person
    is in a campaign's holdout (control group) when this is < its holdout_share. -#}
{% macro lw_holdout_unit(salt_expr, key_expr) -%}
    {{ return(adapter.dispatch('lw_holdout_unit', 'lifecycle_warehouse')(salt_expr, key_expr)) }}
{%- endmacro %}

{% macro default__lw_holdout_unit(salt_expr, key_expr) -%}
    cast(conv(substr(md5(concat({{ salt_expr }}, ':', {{ key_expr }})), 1, 8), 16, 10) as double) / 4294967296.0
{%- endmacro %}

{% macro duckdb__lw_holdout_unit(salt_expr, key_expr) -%}
    cast(('0x' || substr(md5({{ salt_expr }} || ':' || {{ key_expr }}), 1, 8))::ubigint as double) / 4294967296.0
{%- endmacro %}
