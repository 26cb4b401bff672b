-- A facility's revenue of a day is never negative, nor are takings and refunds. (A method row
-- could in principle dip below zero on a day when refunds of earlier takings exceed that
-- method's takings; the day's total cannot, in a sane feed.)

select facility_id, local_date, payment_method, gross_revenue, refunds, revenue
from {{ ref('mart_revenue_daily') }}
where gross_revenue < 0
   or refunds < 0
   or (is_total and revenue < 0)
