-- One row per dimension × segment on as_of_date: customers, net revenue and their
-- shares of the dimension's total, for the lifecycle stages (fct_customer_lifecycle,
-- every known person, prospects included) and the RFM segments (fct_rfm, buyers
-- only). Shares add up to 1 per dimension (tested). A segment with nobody in it has
-- no row. share_of_revenue is null when the dimension's net revenue is 0; with
-- refunds a segment's net revenue (and share) can be negative.
with

lifecycle as (
    select * from {{ ref('fct_customer_lifecycle') }}
),

rfm as (
    select * from {{ ref('fct_rfm') }}
),

segment_members as (
    select
        'lifecycle_stage' as dimension,
        lifecycle_stage as segment_name,
        as_of_date,
        person_id,
        net_revenue
    from lifecycle
    union all
    select
        'rfm_segment' as dimension,
        segment as segment_name,
        as_of_date,
        person_id,
        net_revenue
    from rfm
),

per_segment as (
    select
        dimension,
        segment_name,
        as_of_date,
        count(*) as customers,
        sum(net_revenue) as net_revenue
    from segment_members
    group by dimension, segment_name, as_of_date
),

final as (
    select
        dimension,
        segment_name,
        as_of_date,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        {{ lw_money_quotient('net_revenue', 'customers') }} as average_net_revenue,
        cast(customers as double) / sum(customers) over (partition by dimension) as share_of_customers,
        cast(net_revenue as double)
        / nullif(cast(sum(net_revenue) over (partition by dimension) as double), 0) as share_of_revenue
    from per_segment
)

select * from final
