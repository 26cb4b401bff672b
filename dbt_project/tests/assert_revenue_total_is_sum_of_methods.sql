-- The ALL row of a facility's day equals the sum of its method rows in money; in transactions
-- it holds at most their sum (a split payment is one transaction, counted in each tender's
-- method).

with methods as (

    select
        facility_id,
        local_date,
        sum(revenue) as revenue,
        sum(gross_revenue) as gross_revenue,
        sum(transactions) as transactions
    from {{ ref('mart_revenue_daily') }}
    where not is_total
    group by all

),

totals as (

    select * from {{ ref('mart_revenue_daily') }} where is_total

)

select t.facility_id, t.local_date, t.revenue, m.revenue as sum_of_methods
from totals as t
left join methods as m on m.facility_id = t.facility_id and m.local_date = t.local_date
where t.revenue <> coalesce(m.revenue, 0)
   or t.gross_revenue <> coalesce(m.gross_revenue, 0)
   or t.transactions > coalesce(m.transactions, 0)
