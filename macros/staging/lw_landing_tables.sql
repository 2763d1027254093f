{#- The one list of landing tables: source, its base model (typed + validated,
    one row per raw row), its staging model and the key staging deduplicates on.
    Quarantine and reconciliation iterate over it. -#}
{% macro lw_landing_tables() -%}
    {{ return([
        {'source': 'web', 'table': 'events', 'base': 'base_web__events', 'staging': 'stg_web__events', 'key': 'event_id'},
        {'source': 'app', 'table': 'events', 'base': 'base_app__events', 'staging': 'stg_app__events', 'key': 'event_id'},
        {'source': 'messaging', 'table': 'webhooks', 'base': 'base_messaging__webhooks', 'staging': 'stg_messaging__events', 'key': 'webhook_id'},
        {'source': 'store_pos', 'table': 'transaction_lines', 'base': 'base_store_pos__transaction_lines', 'staging': 'stg_store_pos__transaction_lines', 'key': 'line_key'},
        {'source': 'online_orders', 'table': 'orders', 'base': 'base_online_orders__orders', 'staging': 'stg_online_orders__orders', 'key': 'order_id'},
        {'source': 'crm', 'table': 'customers', 'base': 'base_crm__customers', 'staging': 'stg_crm__customers', 'key': 'user_id'}
    ]) }}
{%- endmacro %}
