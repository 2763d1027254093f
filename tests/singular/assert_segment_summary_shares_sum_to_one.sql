-- In agg_segment_summary the shares of customers, and of net revenue where defined, add
-- up to 1 per dimension (1e-9 tolerance for double rounding), and the customers of each
-- dimension match its source mart. Every row returned is a dimension that does not.
with

summary as (
    select * from {{ ref('agg_segment_summary') }}
),

lifecycle as (
    select * from {{ ref('fct_customer_lifecycle') }}
),

rfm as (
    select * from {{ ref('fct_rfm') }}
),

source_counts as (
    select
        'lifecycle_stage' as dimension,
        count(*) as source_customers
    from lifecycle
    union all
    select
        'rfm_segment' as dimension,
        count(*) as source_customers
    from rfm
),

totals as (
    select
        dimension,
        sum(customers) as customers,
        sum(share_of_customers) as share_of_customers,
        sum(share_of_revenue) as share_of_revenue,
        count(share_of_revenue) as revenue_shares
    from summary
    group by dimension
)

select
    source_counts.dimension,
    source_counts.source_customers,
    totals.customers,
    totals.share_of_customers,
    totals.share_of_revenue
from source_counts
left join totals
    on source_counts.dimension = totals.dimension
where
    (source_counts.source_customers > 0 and totals.customers is null)
    or totals.customers <> source_counts.source_customers
    or abs(totals.share_of_customers - 1) > 1e-9
    or (totals.revenue_shares > 0 and abs(totals.share_of_revenue - 1) > 1e-9)
