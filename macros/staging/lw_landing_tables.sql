{#- The one list of landing tables in this build: source, its base model (typed +
    validated, one row per raw row), its staging model, the key staging deduplicates on
    and, for a source that shares its models with others (the transactions adapter:
    one base and one staging model for every declared transaction source), the filter
    that selects its rows. Demo sources appear when listed in var demo_sources;
    declared transaction sources (var transaction_sources) after them. Quarantine and
    reconciliation iterate over it. -#}
{% macro lw_landing_tables() -%}
    {%- set demo = [
        {'source': 'web', 'table': 'events', 'base': 'base_web__events', 'staging': 'stg_web__events', 'key': 'event_id'},
        {'source': 'app', 'table': 'events', 'base': 'base_app__events', 'staging': 'stg_app__events', 'key': 'event_id'},
        {'source': 'messaging', 'table': 'webhooks', 'base': 'base_messaging__webhooks', 'staging': 'stg_messaging__events', 'key': 'webhook_id', 'reads_lines': true},
        {'source': 'store_pos', 'table': 'transaction_lines', 'base': 'base_store_pos__transaction_lines', 'staging': 'stg_store_pos__transaction_lines', 'key': 'line_key', 'reads_lines': true},
        {'source': 'online_orders', 'table': 'orders', 'base': 'base_online_orders__orders', 'staging': 'stg_online_orders__orders', 'key': 'order_id', 'reads_lines': true},
        {'source': 'crm', 'table': 'customers', 'base': 'base_crm__customers', 'staging': 'stg_crm__customers', 'key': 'user_id', 'reads_lines': true}
    ] -%}
    {%- set tables = [] -%}
    {%- for landing in demo if lw_source_enabled(landing.source) -%}
        {%- do tables.append(landing) -%}
    {%- endfor -%}
    {%- set adapters = [
        ('transaction_sources', 'base_transactions__lines', 'stg_transactions__lines', 'line_key'),
        ('event_sources', 'base_events__events', 'stg_events__events', 'event_key'),
        ('profile_sources', 'base_profiles__accounts', 'stg_profiles__accounts', 'account_identifier')
    ] -%}
    {%- for kind, base, staging, key in adapters -%}
        {%- for declared in var(kind) -%}
            {%- do tables.append({
                'source': declared.name,
                'declaration': declared,
                'base': base,
                'staging': staging,
                'key': key,
                'filter': "source = '" ~ declared.name ~ "'"
            }) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(tables) }}
{%- endmacro %}

{#- The lines of one landing table (an entry of lw_landing_tables) that cannot be read
    as a row (_file, _line, reject_reason), as a subquery aliased unreadable_lines: a
    demo CSV / JSON source's from base_landing__unreadable_lines (each file read once,
    there), a declared source's from lw_declared_read; a parquet source has none. -#}
{% macro lw_unreadable_lines(landing) -%}
    {%- if landing.declaration -%}
        ({{ lw_declared_read(landing.declaration, readable=false) }}) as unreadable_lines
    {%- elif landing.reads_lines -%}
        (
            select
                _lw_file as _file,
                _line,
                reject_reason
            from {{ ref('base_landing__unreadable_lines') }}
            where source = '{{ landing.source }}' and reject_reason is not null
        ) as unreadable_lines
    {%- else -%}
        {{ lw_no_unreadable_lines() }}
    {%- endif -%}
{%- endmacro %}
