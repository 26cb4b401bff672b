-- Revenue per facility, local day and payment method, plus one 'ALL' row per facility and day
-- with the session metrics that have no method (compliance, leakage). A split payment counts
-- in the method rows of its parts and once in the ALL row; maintenance, diagnostic and test
-- transactions are no revenue: only the ALL row counts them (non_revenue_transactions).

with all_payments as (

    select * from {{ ref('int_payments') }}
    where is_valid_amount

),

payments as (

    select * from all_payments where is_revenue

),

-- each payment in the method it was paid with: a SPLIT payment as its tenders
payment_parts as (

    select facility_id, local_date, method, status, amount, revenue_sign * amount as revenue
    from payments
    where coalesce(len(tenders), 0) = 0
    union all
    select
        facility_id,
        local_date,
        tender.method,
        status,
        tender.amount,
        revenue_sign * tender.amount as revenue
    from (select *, unnest(tenders) as tender from payments where len(tenders) > 0)

),

facilities as (

    select facility_id, capacity, currency from {{ ref('facilities') }}

),

capacity_periods as (

    select * from {{ ref('capacity_periods') }}

),

by_method as (

    select
        facility_id,
        local_date,
        method as payment_method,
        sum(amount) filter (where status = 'COMPLETED') as gross_revenue,
        sum(amount) filter (where status = 'REFUNDED') as refunds,
        sum(revenue) as revenue,
        count(*) filter (where status = 'COMPLETED') as transactions,
        count(*) filter (where status = 'REFUNDED') as refund_transactions,
        count(*) filter (where status = 'FAILED') as failed_transactions
    from payment_parts
    group by all

),

-- the day's figures from whole payments (a split payment is one transaction)
by_day as (

    select
        facility_id,
        local_date,
        sum(amount) filter (where is_revenue and status = 'COMPLETED') as gross_revenue,
        sum(amount) filter (where is_revenue and status = 'REFUNDED') as refunds,
        sum(revenue_amount) as revenue,
        count(*) filter (where is_revenue and status = 'COMPLETED') as transactions,
        count(*) filter (where is_revenue and status = 'REFUNDED') as refund_transactions,
        count(*) filter (where is_revenue and status = 'FAILED') as failed_transactions,
        count(*) filter (where not is_revenue) as non_revenue_transactions
    from all_payments
    group by all

),

-- every local day of every facility with data, so a day without payments shows 0, not nothing
-- (from the events: an occupancy problem never holds back revenue)
facility_days as (

    select facility_id, local_date from {{ ref('int_facility_days') }}
    union
    select facility_id, local_date from by_day

),

totals as (

    select
        d.facility_id,
        d.local_date,
        'ALL' as payment_method,
        t.gross_revenue,
        t.refunds,
        t.revenue,
        t.transactions,
        t.refund_transactions,
        t.failed_transactions,
        t.non_revenue_transactions
    from facility_days as d
    left join by_day as t on t.facility_id = d.facility_id and t.local_date = d.local_date

),

-- sessions are counted on the local day they ended (when what is due becomes known)
sessions as (

    select
        facility_id,
        exit_date_local as local_date,
        count(*) filter (where amount_due > 0) as sessions_due,
        count(*) filter (where is_paid) as sessions_paid,
        sum(amount_due) as amount_due,
        sum(leakage) as leakage
    from {{ ref('fct_parking_sessions') }}
    where status = 'CLOSED'
    group by all

),

unioned as (

    select *, false as is_total from by_method
    union all by name
    select *, true as is_total from totals

),

final as (

    select
        ---------- what and when
        u.facility_id,
        u.local_date,
        u.payment_method,
        u.is_total,
        f.currency,
        coalesce(cp.capacity, f.capacity) as capacity,

        ---------- revenue
        {{ money('coalesce(u.gross_revenue, 0)') }} as gross_revenue,
        {{ money('coalesce(u.refunds, 0)') }} as refunds,
        {{ money('coalesce(u.revenue, 0)') }} as revenue,
        cast(coalesce(u.transactions, 0) as bigint) as transactions,
        cast(coalesce(u.refund_transactions, 0) as bigint) as refund_transactions,
        cast(coalesce(u.failed_transactions, 0) as bigint) as failed_transactions,
        case
            when u.is_total then cast(coalesce(u.non_revenue_transactions, 0) as bigint)
        end as non_revenue_transactions,
        case
            when u.transactions > 0 then {{ money('u.gross_revenue / u.transactions') }}
        end as avg_ticket,
        round(coalesce(u.revenue, 0) / coalesce(cp.capacity, f.capacity), 4) as revpas,

        ---------- sessions (ALL rows of facilities with sessions)
        case when u.is_total then s.sessions_due end as sessions_due,
        case when u.is_total then s.sessions_paid end as sessions_paid,
        case
            when u.is_total and s.sessions_due > 0 then s.sessions_paid / s.sessions_due
        end as payment_compliance,
        case when u.is_total then {{ money('s.amount_due') }} end as amount_due,
        case when u.is_total then {{ money('s.leakage') }} end as leakage

    from unioned as u
    left join facilities as f on f.facility_id = u.facility_id
    left join capacity_periods as cp
        on cp.facility_id = u.facility_id
        and u.local_date >= cp.valid_from
        and u.local_date < cp.valid_to
    left join sessions as s
        on s.facility_id = u.facility_id and s.local_date = u.local_date and u.is_total

)

select * from final
