-- One row per raw line of every declared transaction source (var transaction_sources,
-- docs/sources.md): typed from the declaration's column mapping, money in the base
-- currency, the customer normalised as its identifier type says, validated.
-- reject_reason is null for lines fit for staging; the first failing check wins. A line
-- without a customer is valid (kept, with no person). A cancellation / return line
-- (the declared marker) always counts as money paid back: amount is -|amount|.
{{ config(enabled=var('transaction_sources') | length > 0) }}
{%- set declared_sources = var('transaction_sources') %}
with

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

{% for declared in declared_sources %}
{%- set columns = declared.columns -%}
{%- set cancellation = declared.get('cancellation') or {} -%}
{%- set customer_type = columns.customer_id.identifier_type -%}
{%- set customer_value = lw_normalized_identifier_value('raw."' ~ columns.customer_id.column ~ '"', customer_type) -%}
{{ declared.name }}_raw as (
    {{ lw_transactions_read(declared) }}
),

{{ declared.name }}_typed as (
    select
        '{{ declared.name }}' as source,
        raw._file as file_name,
        raw._line_number as line_number,
        {{ lw_hash_identifier_if_configured(customer_value, customer_type) }} as customer_id,
        '{{ customer_type }}' as customer_identifier_type,
        {{ customer_value }} is not null as has_customer,
        {{ lw_is_valid_id(customer_value, customer_type) }} as is_valid_customer,
        {% if columns.get('order_id') -%}
        nullif(trim(raw."{{ columns.order_id.column }}"), '') as order_id,
        nullif(trim(raw."{{ columns.order_id.column }}"), '') is null as is_missing_order_id,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as order_id,
        false as is_missing_order_id,
        {%- endif %}
        {% if columns.get('product_id') -%}
        nullif(trim(raw."{{ columns.product_id.column }}"), '') as product_id,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as product_id,
        {%- endif %}
        {{ lw_parse_timestamp('raw."' ~ columns.ordered_at.column ~ '"', columns.ordered_at.format, columns.ordered_at.get('time_zone', 'UTC')) }}
            as ordered_at,
        {% if columns.get('loaded_at') -%}
        {{ lw_parse_timestamp('raw."' ~ columns.loaded_at.column ~ '"', columns.loaded_at.format, columns.loaded_at.get('time_zone', 'UTC')) }}
            as loaded_at,
        {%- else -%}
        -- no load time declared: a line counts as loaded when it happened
        {{ lw_parse_timestamp('raw."' ~ columns.ordered_at.column ~ '"', columns.ordered_at.format, columns.ordered_at.get('time_zone', 'UTC')) }}
            as loaded_at,
        {%- endif %}
        {% if columns.get('quantity') -%}
        {{ lw_safe_cast('trim(raw."' ~ columns.quantity.column ~ '")', 'decimal(18, 4)') }} as quantity,
        {{ lw_safe_cast('trim(raw."' ~ columns.unit_price.column ~ '")', 'decimal(18, 4)') }} as unit_price_local,
        cast(
            {{ lw_safe_cast('trim(raw."' ~ columns.quantity.column ~ '")', 'decimal(18, 4)') }}
            * {{ lw_safe_cast('trim(raw."' ~ columns.unit_price.column ~ '")', 'decimal(18, 4)') }}
            as decimal(18, 4)
        ) as amount_local,
        {%- else -%}
        cast(null as decimal(18, 4)) as quantity,
        cast(null as decimal(18, 4)) as unit_price_local,
        {{ lw_safe_cast('trim(raw."' ~ columns.amount.column ~ '")', 'decimal(18, 4)') }} as amount_local,
        {%- endif %}
        {% if columns.get('currency') and columns.currency.get('column') -%}
        upper(trim(raw."{{ columns.currency.column }}")) as currency_code,
        {%- elif columns.get('currency') -%}
        '{{ columns.currency.value }}' as currency_code,
        {%- else -%}
        '{{ var("base_currency") }}' as currency_code,
        {%- endif %}
        {% if cancellation.get('order_id_prefix') -%}
        coalesce(trim(raw."{{ columns.order_id.column }}") like '{{ cancellation.order_id_prefix }}%', false)
            as is_cancellation,
        {%- elif cancellation.get('negative_quantity') -%}
        coalesce(
            {{ lw_safe_cast('trim(raw."' ~ (columns.quantity or columns.amount).column ~ '")', 'decimal(18, 4)') }} < 0,
            false
        ) as is_cancellation,
        {%- elif cancellation.get('flag_column') -%}
        coalesce(
            lower(trim(raw."{{ cancellation.flag_column }}")) in (
                {%- for value in cancellation.flag_values %}'{{ value | lower }}'{{ ', ' if not loop.last }}{% endfor -%}
            ),
            false
        ) as is_cancellation,
        {%- else -%}
        false as is_cancellation,
        {%- endif %}
        {#- the declared columns only: the same line in two files is one line twice -#}
        cast(to_json({
            {%- for column in declared.options.columns -%}
            '{{ column }}': raw."{{ column }}"{{ ', ' if not loop.last }}
            {%- endfor -%}
        }) as varchar) as raw_record
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
        unioned.source || ':' || coalesce(
            {{ lw_file_basename('unioned.file_name') }} || '#' || cast(unioned.line_number as {{ dbt.type_string() }}),
            md5(unioned.raw_record)
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
        case
            when keyed.has_customer and not keyed.is_valid_customer then 'malformed_customer_id'
            when keyed.is_missing_order_id then 'missing_order_id'
            when keyed.ordered_at is null then 'unparseable_timestamp'
            when keyed.amount_local is null then 'unparseable_amount'
            when keyed.rate_to_base is null then 'unknown_currency'
            when not keyed.is_cancellation and keyed.amount_local < 0 then 'negative_amount'
            when keyed.loaded_at is null then 'unparseable_timestamp'
            when {{ lw_is_future_timestamp('keyed.ordered_at', 'keyed.loaded_at') }} then 'future_timestamp'
        end as reject_reason
    from keyed
)

select * from validated
