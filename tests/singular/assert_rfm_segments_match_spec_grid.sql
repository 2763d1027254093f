-- The RFM segment seed must equal the SPEC §5 grid, cell by cell: all 25 (R, F) pairs,
-- each with its segment, nothing more. The expectation is spelled out here by hand,
-- independently of seeds/rfm_segments.csv; every row returned is a missing, extra or
-- wrongly mapped cell.
with

seeded as (
    select
        r_score,
        f_score,
        segment
    from {{ ref('rfm_segments') }}
),

expected (r_score, f_score, segment) as (
    values
    -- champions R5 F4-5; new_customers R5 F1; potential_loyalist R4-5 F2-3
    (5, 5, 'champions'),
    (5, 4, 'champions'),
    (5, 3, 'potential_loyalist'),
    (5, 2, 'potential_loyalist'),
    (5, 1, 'new_customers'),
    -- loyal R3-4 F4-5; promising R4 F1
    (4, 5, 'loyal'),
    (4, 4, 'loyal'),
    (4, 3, 'potential_loyalist'),
    (4, 2, 'potential_loyalist'),
    (4, 1, 'promising'),
    -- need_attention R3 F3; about_to_sleep R3 F1-2
    (3, 5, 'loyal'),
    (3, 4, 'loyal'),
    (3, 3, 'need_attention'),
    (3, 2, 'about_to_sleep'),
    (3, 1, 'about_to_sleep'),
    -- cannot_lose_them R1-2 F5; at_risk R1-2 F3-4; hibernating R1-2 F1-2
    (2, 5, 'cannot_lose_them'),
    (2, 4, 'at_risk'),
    (2, 3, 'at_risk'),
    (2, 2, 'hibernating'),
    (2, 1, 'hibernating'),
    (1, 5, 'cannot_lose_them'),
    (1, 4, 'at_risk'),
    (1, 3, 'at_risk'),
    (1, 2, 'hibernating'),
    (1, 1, 'hibernating')
),

differences as (
    select
        expected.segment as expected_segment,
        seeded.segment as seeded_segment,
        coalesce(expected.r_score, seeded.r_score) as r_score,
        coalesce(expected.f_score, seeded.f_score) as f_score
    from expected
    full outer join seeded
        on
            expected.r_score = seeded.r_score
            and expected.f_score = seeded.f_score
    where
        expected.segment is null
        or seeded.segment is null
        or expected.segment <> seeded.segment
)

select * from differences
