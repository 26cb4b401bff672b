-- On-street stays: a stay starts when a bay's sensor turns occupied and ends when it next
-- reports free. Repeated reports of the same state (heartbeats) change nothing. Two reports
-- of one bay at the same second are read free first: a car leaving as the next one parks. A stay still
-- going at the data horizon has no end; it is an overstay once it has lasted longer than the
-- zone's maximum stay.

with reports as (

    select
        facility_id,
        zone_id,
        bay_id,
        ts,
        occupied,
        lag(occupied) over (
            partition by facility_id, zone_id, bay_id order by ts, occupied, event_id
        ) as was_occupied,
        event_id
    from {{ ref('int_bay_status') }}

),

changes as (

    select
        facility_id,
        zone_id,
        bay_id,
        ts,
        occupied,
        lead(ts) over (
            partition by facility_id, zone_id, bay_id order by ts, occupied, event_id
        ) as next_ts
    from reports
    where was_occupied is distinct from occupied

),

horizon as (

    select horizon from {{ ref('int_data_horizon') }}

),

zones as (

    select facility_id, zone_id, max_stay_minutes from {{ ref('zones') }}

),

facilities as (

    select facility_id, timezone from {{ ref('facilities') }}

)

select
    ---------- where
    c.facility_id,
    c.zone_id,
    c.bay_id,

    ---------- when
    c.ts as stay_start,
    c.next_ts as stay_end,
    {{ local_time('c.ts', 'f.timezone') }} as stay_start_local,
    c.next_ts is null as is_ongoing,
    date_diff('second', c.ts, c.next_ts) as duration_s,
    date_diff('second', c.ts, coalesce(c.next_ts, h.horizon)) as observed_duration_s,

    ---------- rules
    z.max_stay_minutes,
    date_diff('second', c.ts, coalesce(c.next_ts, h.horizon)) > z.max_stay_minutes * 60
        as is_overstay

from changes as c
cross join horizon as h
left join zones as z on z.facility_id = c.facility_id and z.zone_id = c.zone_id
left join facilities as f on f.facility_id = c.facility_id
where c.occupied
