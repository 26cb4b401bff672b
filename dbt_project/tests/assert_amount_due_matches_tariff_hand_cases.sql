-- The tariff macro on hand-computed cases (ARCHITECTURE: free under grace_minutes, else
-- min(max_fee, base_fee + hourly_rate x started hours)). Rows returned are mismatches.

with cases (duration_s, base_fee, hourly_rate, max_fee, grace_minutes, expected) as (

    values
        -- default tariff: 2.00 + 3.00/h, max 25.00, 5 minutes free
        (0,      2.00, 3.00, 25.00,  5,  0.00),
        (299,    2.00, 3.00, 25.00,  5,  0.00),
        (300,    2.00, 3.00, 25.00,  5,  5.00),
        (3600,   2.00, 3.00, 25.00,  5,  5.00),
        (3601,   2.00, 3.00, 25.00,  5,  8.00),
        (7200,   2.00, 3.00, 25.00,  5,  8.00),
        (24000,  2.00, 3.00, 25.00,  5, 23.00),
        (25201,  2.00, 3.00, 25.00,  5, 25.00),
        (259200, 2.00, 3.00, 25.00,  5, 25.00),
        -- on-street: no base fee, 4.00/h, max 16.00
        (1800,   0.00, 4.00, 16.00,  5,  4.00),
        (14401,  0.00, 4.00, 16.00,  5, 16.00),
        -- airport: 3.00 + 4.50/h, max 40.00, 10 minutes free
        (599,    3.00, 4.50, 40.00, 10,  0.00),
        (600,    3.00, 4.50, 40.00, 10,  7.50),
        (18001,  3.00, 4.50, 40.00, 10, 30.00)

),

computed as (

    select
        *,
        {{ amount_due('duration_s', 'base_fee', 'hourly_rate', 'max_fee', 'grace_minutes') }}
            as amount_due
    from cases

)

select *
from computed
where amount_due is distinct from cast(expected as decimal(12, 2))
