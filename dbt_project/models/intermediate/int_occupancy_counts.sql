-- A view: a thin filter of stg_events (a table), read by the models that need it.
{{ config(materialized='view') }}

-- Readings of counting systems: vehicles inside, as received, each holding until the next
-- reading of the same facility (or zone). A reading is flagged when its device flagged it
-- (NEGATIVE_COUNT, ABOVE_CAPACITY against the capacity it reports) or when it is below zero
-- or above the estate's capacity in force that local day (zone: its bays): kept, and left
-- out of the rates where it holds (int_occupancy_hourly).

with events as (

    select * from {{ ref('stg_events') }}
    where event_type = 'occupancy_count'

),

capacities as (

    select
        e.event_id,
        coalesce(z.bays, cp.capacity) as capacity
    from events as e
    inner join {{ ref('facilities') }} as f on f.facility_id = e.facility_id
    left join {{ ref('zones') }} as z on z.facility_id = e.facility_id and z.zone_id = e.zone_id
    left join {{ ref('capacity_periods') }} as cp
        on cp.facility_id = e.facility_id
        and cast({{ local_time('e.ts', 'f.timezone') }} as date) >= cp.valid_from
        and cast({{ local_time('e.ts', 'f.timezone') }} as date) < cp.valid_to

)

select
    e.event_id,
    e.facility_id,
    e.zone_id,
    e.device_id,
    e.ts,
    e.occupied,
    e.reported_capacity,
    e.flags,
    c.capacity,
    coalesce(len(e.flags) > 0 or e.occupied < 0 or e.occupied > c.capacity, false) as is_flagged
from events as e
left join capacities as c on c.event_id = e.event_id
