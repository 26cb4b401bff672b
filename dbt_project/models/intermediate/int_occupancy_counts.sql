-- A view: a thin filter of stg_events (a table), read by the models that need it.
{{ config(materialized='view') }}

-- Readings of counting systems: vehicles inside, as received (negative or above capacity
-- too, flagged), each holding until the next reading of the same facility (or zone).

with events as (

    select * from {{ ref('stg_events') }}
    where event_type = 'occupancy_count'

)

select
    event_id,
    facility_id,
    zone_id,
    device_id,
    ts,
    occupied,
    reported_capacity,
    flags,
    len(flags) > 0 as is_flagged
from events
