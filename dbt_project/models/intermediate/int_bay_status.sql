-- A view: a thin filter of stg_events (a table), read by the models that need it.
{{ config(materialized='view') }}

-- Bay sensor reports (on-street): a bay's state holds until its next report.

with events as (

    select * from {{ ref('stg_events') }}
    where event_type = 'bay_status'

)

select
    event_id,
    facility_id,
    zone_id,
    bay_id,
    device_id,
    ts,
    bay_occupied as occupied,
    sign_max_stay_minutes,
    sign_restricted_until,
    vendor_in_violation,
    dbt_loaded_at
from events
