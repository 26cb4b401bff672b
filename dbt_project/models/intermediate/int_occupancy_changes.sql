-- A view: read once, by int_occupancy_hourly, and cheaper to compute there than to store.
{{ config(materialized='view') }}

-- Every change in how many vehicles a subject holds, as +n / -n at an instant. The facility's
-- kind (seed `facilities`) says where its occupancy comes from:
--   gated:     sessions. A CLOSED session is +1 at entry and -1 at exit; an OPEN one is +1 at
--              entry and counts until the data horizon. ABANDONED sessions (exit missed) are
--              left out: their exit time is unknown, and counting them until they were
--              abandoned (the plate's next entry, or the 72 h max stay) would add phantom
--              vehicles; they are counted in the data-quality mart instead.
--   on_street: bay stays, for the bay, its zone and the facility (+1 at start, -1 at end).
--   counted:   readings, as the difference from the previous reading (the first reading is
--              its own value), so the running sum is the reading in effect. `flagged` says
--              whether the reading is flagged (below zero, above capacity): the sweep leaves
--              the time it is in effect out of the rates. A reading is in effect for at most
--              `staleness_minutes`: when the next one comes later, a flagged zero change at
--              that point marks the silence as a gap (no figure), never the last value held.
--              Sessions and stays: null.

with facilities as (

    select facility_id, kind from {{ ref('facilities') }}

),

sessions as (

    select s.*
    from {{ ref('stg_sessions') }} as s
    inner join facilities as f on f.facility_id = s.facility_id and f.kind = 'gated'
    where s.status in ('OPEN', 'CLOSED')

),

stays as (

    select s.*
    from {{ ref('int_bay_stays') }} as s
    inner join facilities as f on f.facility_id = s.facility_id and f.kind = 'on_street'

),

readings as (

    select
        c.facility_id,
        c.zone_id,
        c.ts,
        c.is_flagged,
        lead(c.ts) over (partition by c.facility_id, c.zone_id order by c.ts, c.event_id)
            as next_ts,
        c.occupied - coalesce(
            lag(c.occupied) over (partition by c.facility_id, c.zone_id order by c.ts, c.event_id),
            0
        ) as delta
    from {{ ref('int_occupancy_counts') }} as c
    inner join facilities as f on f.facility_id = c.facility_id and f.kind = 'counted'

),

session_changes as (

    select
        facility_id as subject_id, facility_id, entry_ts as ts, 1 as delta,
        cast(null as boolean) as flagged
    from sessions
    union all
    select facility_id, facility_id, exit_ts, -1, null from sessions where status = 'CLOSED'

),

stay_edges as (

    select subject_id, facility_id, zone_id, stay_start as ts, 1 as delta from stays
    union all
    select subject_id, facility_id, zone_id, stay_end, -1 from stays where stay_end is not null

),

stay_changes as (

    select subject_id, facility_id, ts, delta, cast(null as boolean) as flagged from stay_edges
    union all
    select facility_id || '/' || zone_id, facility_id, ts, delta, null from stay_edges
    union all
    select facility_id, facility_id, ts, delta, null from stay_edges

),

reading_changes as (

    select
        case when zone_id is null then facility_id else facility_id || '/' || zone_id end
            as subject_id,
        facility_id,
        ts,
        delta,
        is_flagged as flagged
    from readings
    union all
    -- where a reading goes stale before the next one (or the feed's end), a gap begins
    select
        case when zone_id is null then facility_id else facility_id || '/' || zone_id end,
        facility_id,
        ts + interval '{{ var("staleness_minutes") }} minutes',
        0,
        true
    from readings
    where next_ts is null or next_ts > ts + interval '{{ var("staleness_minutes") }} minutes'

)

select subject_id, facility_id, ts, delta, flagged from session_changes
union all
select subject_id, facility_id, ts, delta, flagged from stay_changes
union all
select subject_id, facility_id, ts, delta, flagged from reading_changes
