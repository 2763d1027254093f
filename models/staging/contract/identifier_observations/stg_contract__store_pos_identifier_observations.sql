-- The identifiers a till line (stg_store_pos__transaction_lines) carries: the
-- loyalty card and the phone, when given.
-- One source's part of stg_contract__identifier_observations (the union, whose YAML
-- documents the columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('store_pos')) }}
with

store_lines as (
    select * from {{ ref('stg_store_pos__transaction_lines') }}
),

final as (
    select
        'store_pos' as source,
        {{ lw_typed_identifier('loyalty_card', 'loyalty_card') }} as identifier,
        event_at as seen_at
    from store_lines
    where loyalty_card is not null
    union all
    select
        'store_pos' as source,
        {{ lw_typed_identifier('phone', 'phone_hash') }} as identifier,
        event_at as seen_at
    from store_lines
    where phone_hash is not null
)

select * from final
