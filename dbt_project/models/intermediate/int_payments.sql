-- A view: a thin filter of stg_events (a table), read by the models that need it.
{{ config(materialized='view') }}

-- Payments with the sign they have in revenue: COMPLETED adds, REFUNDED subtracts, PENDING
-- and FAILED count nothing, and so do maintenance, diagnostic and test transactions (only
-- purpose PARKING is revenue; the others are kept and counted apart). A negative amount cannot come from a plugin (the canonical model
-- rejects it) but a bad writer could land one: it is kept, flagged `is_valid_amount = false`,
-- left out of revenue and counted in mart_data_quality_daily.

with payments as (

    select * from {{ ref('stg_events') }}
    where event_type = 'payment'
      -- of the estate's facilities (others are counted in mart_data_quality_daily)
      and facility_id in (select facility_id from {{ ref('facilities') }})

)

select
    ---------- ids
    event_id,
    facility_id,
    device_id,
    source,
    transaction_id,
    plate,

    ---------- times
    ts,
    ts_local,
    cast(ts_local as date) as local_date,
    paid_until,

    ---------- what was paid
    amount,
    currency,
    method,
    tenders,
    status,
    failure_reason,
    purpose,
    purpose = 'PARKING' as is_revenue,
    amount >= 0 as is_valid_amount,
    -- a street meter sells time (paid_until) or takes coins (no plate): not part of a session
    (paid_until is not null or plate is null) as is_meter_payment,
    revenue_sign,
    revenue_sign * amount as revenue_amount

from (
    select
        *,
        case
            when amount < 0 or purpose <> 'PARKING' then 0
            when status = 'COMPLETED' then 1
            when status = 'REFUNDED' then -1
            else 0
        end as revenue_sign
    from payments
)
