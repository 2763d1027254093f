-- One row per raw line of every declared transaction source (var transaction_sources,
-- docs/sources.md): typed from the declaration's column mapping, money in the base
-- currency, identifiers typed as their identifier types say (identifier_1 = the
-- customer id, then the declared further identifiers), validated. reject_reason is null
-- for lines fit for staging; the first failing check wins. A line without any
-- identifier is valid (kept, counted in revenue, reaches no person). A cancellation /
-- return line (the declared marker) always pays money back: amount is -|amount|; a void
-- line (an order cancelled before it was paid) counts nothing.
{{ config(enabled=var('transaction_sources') | length > 0) }}
{%- set declared_sources = var('transaction_sources') %}
with

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

{% for declared in declared_sources %}
{%- set columns = declared.columns -%}
{%- set cancellation = declared.get('cancellation') or {} -%}
{%- set customer_type = columns.customer_id.identifier_type -%}
{%- set customer_value = lw_normalized_identifier_value(lw_mapped(columns.customer_id), customer_type, 'country_codes') -%}
{{ declared.name }}_raw as (
    {{ lw_declared_read(declared) }}
),

{{ declared.name }}_typed as (
    select
        '{{ declared.name }}' as source,
        raw._file as file_name,
        raw._line_number as line_number,
        {{ lw_hash_identifier_if_configured(customer_value, customer_type) }} as customer_id,
        '{{ customer_type }}' as customer_identifier_type,
        {{ lw_declared_identifiers([columns.customer_id] + declared.get('identifiers', []), calling_codes='country_codes') }},
        {{ lw_mapped(columns.get('order_id')) or 'cast(null as ' ~ dbt.type_string() ~ ')' }} as order_id,
        {{ 'true' if columns.get('order_id') else 'false' }} as has_declared_order_id,
        {{ lw_mapped(columns.get('product_id')) or 'cast(null as ' ~ dbt.type_string() ~ ')' }} as product_id,
        {{ lw_mapped(columns.get('line_id')) or 'cast(null as ' ~ dbt.type_string() ~ ')' }} as line_id,
        {{ 'true' if columns.get('loaded_at') else 'false' }} as has_load_time,
        {{ lw_mapped_timestamp(columns.ordered_at) }} as ordered_at,
        -- no load time declared: a line counts as loaded when it happened
        {{ lw_mapped_timestamp(columns.get('loaded_at') or columns.ordered_at) }} as loaded_at,
        {% if columns.get('quantity') -%}
        {{ lw_mapped_decimal(columns.quantity) }} as quantity,
        cast({{ lw_mapped_decimal(columns.quantity) }} * {{ lw_mapped_decimal(columns.unit_price) }} as decimal(18, 4))
            as amount_local,
        {%- set money_fields = [columns.quantity, columns.unit_price] -%}
        {%- else -%}
        cast(null as decimal(18, 4)) as quantity,
        {{ lw_mapped_decimal(columns.amount) }} as amount_local,
        {%- set money_fields = [columns.amount] -%}
        {%- endif %}
        -- 1e3 or 1_000 would cast to 1000: money and quantities are written as plain decimals
        {% for field in money_fields + ([columns.refund_amount] if columns.get('refund_amount') else []) -%}
        {{ lw_mapped_is_non_plain_decimal(field) }}{{ ' or' if not loop.last }}
        {% endfor -%}
            as has_non_plain_amount,
        {% if columns.get('refund_amount') -%}
        coalesce({{ lw_mapped_decimal(columns.refund_amount) }}, 0) as refund_local,
        -- an empty refund is none; a refund that is no number is quarantined
        {{ lw_mapped(columns.refund_amount) }} is not null and {{ lw_mapped_decimal(columns.refund_amount) }} is null
            as is_unparseable_refund,
        {%- else -%}
        cast(0 as decimal(18, 4)) as refund_local,
        false as is_unparseable_refund,
        {%- endif %}
        {% if columns.get('currency') -%}
        upper({{ lw_mapped(columns.currency) }}) as currency_code,
        {%- else -%}
        '{{ var("base_currency") }}' as currency_code,
        {%- endif %}
        {% if cancellation.get('order_id_prefix') -%}
        coalesce({{ lw_mapped(columns.order_id) }} like '{{ cancellation.order_id_prefix }}%', false)
            as is_cancellation,
        {%- elif cancellation.get('negative_quantity') -%}
        coalesce({{ lw_mapped_decimal(columns.quantity) }} < 0, false) as is_cancellation,
        {%- elif cancellation.get('flag_column') -%}
        {{ lw_mapped_boolean({'column': cancellation.flag_column, 'true_values': cancellation.flag_values}) }}
            as is_cancellation,
        {%- else -%}
        false as is_cancellation,
        {%- endif %}
        {% if declared.get('void') -%}
        {{ lw_mapped_boolean({'column': declared.void.flag_column, 'true_values': declared.void.flag_values}) }}
            as is_void,
        {%- else -%}
        false as is_void,
        {%- endif %}
        {#- the declared columns only: the same line in two files is one line twice -#}
        {{ lw_columns_to_json('raw', declared.options.columns) }} as raw_json
    from {{ declared.name }}_raw as raw
),

{% endfor %}
unioned as (
    {% for declared in declared_sources %}
    select * from {{ declared.name }}_typed
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

keyed as (
    select
        unioned.*,
        -- the text format's line number is deterministic; other formats have none, so a
        -- line is keyed by its content (an exact copy is a duplicate delivery)
        -- the declared line id; else the text format's file and line number (the only
        -- deterministic line number); else the line's content (an exact copy is a
        -- duplicate delivery)
        unioned.source || ':' || coalesce(
            unioned.line_id,
            unioned.file_name || '#' || cast(unioned.line_number as {{ dbt.type_string() }}),
            md5(unioned.raw_json)
        ) as line_key,
        fx_rates.rate_to_base
    from unioned
    left join fx_rates
        on unioned.currency_code = fx_rates.currency_code
),

validated as (
    select
        keyed.*,
        case
            when keyed.is_cancellation then -abs({{ lw_to_base_currency('keyed.amount_local', 'keyed.rate_to_base') }})
            else {{ lw_to_base_currency('keyed.amount_local', 'keyed.rate_to_base') }}
        end as amount,
        abs({{ lw_to_base_currency('keyed.refund_local', 'keyed.rate_to_base') }}) as refund_amount,
        case
            when keyed.is_malformed_identifier then 'malformed_identifier'
            when keyed.has_declared_order_id and keyed.order_id is null then 'missing_order_id'
            when keyed.ordered_at is null then 'unparseable_timestamp'
            when keyed.amount_local is null or keyed.is_unparseable_refund then 'unparseable_amount'
            when keyed.has_non_plain_amount then 'non_plain_amount'
            when keyed.rate_to_base is null then 'unknown_currency'
            when not keyed.is_cancellation and not keyed.is_void and keyed.amount_local < 0 then 'negative_amount'
            when keyed.loaded_at is null then 'unparseable_timestamp'
            when {{ lw_is_future_timestamp('keyed.ordered_at', 'keyed.loaded_at') }} then 'future_timestamp'
            when {{ lw_is_before_min_event_date('keyed.ordered_at') }} then 'timestamp_before_min_event_date'
        end as reject_reason
    from keyed
),

-- the raw line is kept for rejected lines only (quarantine): every other model reads
-- the typed columns
final as (
    select
        source,
        line_key,
        file_name,
        line_number,
        customer_id,
        customer_identifier_type,
        identifier_1,
        identifier_2,
        identifier_3,
        identifier_4,
        identifier_5,
        is_malformed_identifier,
        order_id,
        has_declared_order_id,
        product_id,
        line_id,
        has_load_time,
        ordered_at,
        loaded_at,
        quantity,
        amount_local,
        refund_local,
        currency_code,
        rate_to_base,
        amount,
        refund_amount,
        is_cancellation,
        is_void,
        reject_reason,
        case when reject_reason is not null then raw_json end as raw_record
    from validated
)

select * from final
