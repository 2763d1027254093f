-- The identifiers the lines of the declared transaction files
-- (stg_transactions__lines) carry, seen when ordered.
-- One source's part of stg_contract__identifier_observations (the union, whose YAML
-- documents the columns); in the build only when the source is.
{{ config(enabled=var('transaction_sources') | length > 0) }}
with

transaction_lines as (
    select * from {{ ref('stg_transactions__lines') }}
),

final as (
    {{ lw_declared_identifier_sightings('transaction_lines', 'ordered_at') }}
)

select * from final
