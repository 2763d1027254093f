-- One row per line of a demo source's CSV / JSON landing files that cannot be read as a
-- row (lw_landing_rows: not UTF-8, too long, a malformed CSV row or JSON object), and
-- one row per landing file read (_line and reject_reason null): the record of the files
-- this model has read. An incremental table, like the base models: each run reads the
-- files it has not read before (macros/staging/lw_landing_file_batch.sql), so the
-- quarantine and the row counts never parse the landing history again. Parquet sources
-- (web, app) have no unreadable lines.
{%- set sources = [
    ('messaging', 'webhooks'),
    ('store_pos', 'transaction_lines'),
    ('online_orders', 'orders'),
    ('crm', 'customers'),
] %}
{{ config(
    enabled=lw_source_enabled('messaging') or lw_source_enabled('store_pos')
        or lw_source_enabled('online_orders') or lw_source_enabled('crm'),
    materialized=lw_upsert_materialization(),
    incremental_strategy='append',
) }}
{%- set batches = {} %}
{%- for source_name, table_name in sources if lw_source_enabled(source_name) %}
{%- do batches.update({source_name: lw_landing_file_batch(source_name, table_name, source_name)}) %}
{%- endfor %}
with

{% if lw_source_enabled('messaging') -%}
messaging_lines as (
    {{ lw_file_lines(
        'messaging',
        lw_landing_rows('messaging', 'webhooks', readable=false, files=batches.messaging.read),
        batches.messaging
    ) }}
),

{% endif -%}
{% if lw_source_enabled('store_pos') -%}
store_pos_lines as (
    {{ lw_file_lines(
        'store_pos',
        lw_landing_rows('store_pos', 'transaction_lines', readable=false, files=batches.store_pos.read),
        batches.store_pos
    ) }}
),

{% endif -%}
{% if lw_source_enabled('online_orders') -%}
online_orders_lines as (
    {{ lw_file_lines(
        'online_orders',
        lw_landing_rows('online_orders', 'orders', readable=false, files=batches.online_orders.read),
        batches.online_orders
    ) }}
),

{% endif -%}
{% if lw_source_enabled('crm') -%}
crm_lines as (
    {{ lw_file_lines(
        'crm',
        lw_landing_rows('crm', 'customers', readable=false, files=batches.crm.read),
        batches.crm
    ) }}
),

{% endif -%}
unioned as (
    {% for source_name, table_name in sources if lw_source_enabled(source_name) -%}
    select * from {{ source_name }}_lines
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        unioned.*,
        -- the run that read the file: data tests of an incremental run check these rows
        {{ lw_run_started_at() }} as dbt_updated_at
    from unioned
)

select * from final
