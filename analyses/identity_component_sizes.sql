-- How big do persons get? Distribution of identifiers per person, with the largest
-- persons listed first. Run by hand (`dbt compile --select identity_component_sizes`
-- then paste, or `dbt show --select identity_component_sizes`) when tuning
-- max_neighbours_per_type (var identifier_types): a long tail of huge persons means a shared
-- identifier slipped through the over-merge guard.
with

merge_audit as (
    select * from {{ ref('int_identity__merge_audit') }}
),

final as (
    select
        identifiers,
        count(*) as persons,
        max(excluded_links) as max_excluded_links
    from merge_audit
    group by identifiers
)

select * from final
order by identifiers desc
