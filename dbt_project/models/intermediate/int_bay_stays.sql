{{
    config(
        materialized='incremental',
        unique_key='subject_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

-- On-street stays: a stay starts when a bay's sensor turns occupied and ends when it next
-- reports free. Repeated reports of the same state (heartbeats) change nothing. Two reports
-- of one bay at the same second are read free first: a car leaving as the next one parks. A stay still
-- going at the data horizon has no end. The sign in force when a stay began sets its limit:
-- the sign the sensor reported with the arrival, else the zone's restriction window in force
-- at the stay's local start time (`zone_restrictions`; a window past midnight belongs to the
-- day it starts), else the zone's max_stay_minutes (none: no limit). A restriction stops at
-- its window's end, so a stay overstays when its time in the bay before that end is longer
-- than the limit. A vendor that judges stays itself (`vendor_in_violation`, on the report
-- that ends the stay or else the one that starts it) has the last word.
--
-- Incremental, per bay (delete+insert on subject_id: every stay of the bays redone). A bay is redone
-- from `since`: for a bay with reports loaded since the last build, the start of its last
-- stay before the earliest of them (nothing earlier can change: a report only changes the
-- stays from the one it falls in on); for a bay whose last stay is still going, that stay's
-- start (its observed duration grows with the horizon). Its stays from `since` on are
-- computed from its reports from `since` on (the report there starts a stay, so the state
-- before it does not matter), and its older stays are copied as they were. A change of the
-- seeds `facilities` or `zones` needs a full refresh.

with {% if is_incremental() %}held as (

    select * from {{ this }}

),

new_reports as (

    select facility_id, zone_id, bay_id, min(ts) as first_ts
    from {{ ref('int_bay_status') }}
    where dbt_loaded_at > {{ held_loaded_at() }}
    group by all

),

redo as (

    select facility_id, zone_id, bay_id, min(since) as since
    from (
        select
            n.facility_id,
            n.zone_id,
            n.bay_id,
            coalesce(max(h.stay_start), {{ epoch() }}) as since
        from new_reports as n
        left join held as h
            on h.facility_id = n.facility_id and h.zone_id = n.zone_id and h.bay_id = n.bay_id
            and h.stay_start < n.first_ts
        group by all
        union all
        select facility_id, zone_id, bay_id, stay_start from held where is_ongoing
    )
    group by all

),

{% endif %}reports as (

    select
        b.facility_id,
        b.zone_id,
        b.bay_id,
        b.ts,
        b.occupied,
        lag(b.occupied) over (
            partition by b.facility_id, b.zone_id, b.bay_id order by b.ts, b.occupied, b.event_id
        ) as was_occupied,
        b.event_id,
        b.sign_max_stay_minutes,
        b.sign_restricted_until,
        b.vendor_in_violation
    from {{ ref('int_bay_status') }} as b
    {%- if is_incremental() %}
    inner join redo as r
        on r.facility_id = b.facility_id and r.zone_id = b.zone_id and r.bay_id = b.bay_id
        and b.ts >= r.since
    {%- endif %}

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
        ) as next_ts,
        sign_max_stay_minutes,
        sign_restricted_until,
        coalesce(
            lead(vendor_in_violation) over (
                partition by facility_id, zone_id, bay_id order by ts, occupied, event_id
            ),
            vendor_in_violation
        ) as vendor_in_violation
    from reports
    where was_occupied is distinct from occupied

),

horizons as (

    -- an ongoing stay is measured to its facility's own horizon (int_facility_horizons)
    select facility_id, horizon from {{ ref('int_facility_horizons') }}

),

zones as (

    select facility_id, zone_id, max_stay_minutes from {{ ref('zones') }}

),

restrictions as (

    select * from {{ ref('zone_restrictions') }}

),

facilities as (

    select facility_id, timezone from {{ ref('facilities') }}

),

starts as (

    select
        c.*,
        {{ local_time('c.ts', 'f.timezone') }} as start_local,
        f.timezone,
        h.horizon,
        z.max_stay_minutes as zone_max_stay_minutes
    from changes as c
    left join horizons as h on h.facility_id = c.facility_id
    left join zones as z on z.facility_id = c.facility_id and z.zone_id = c.zone_id
    left join facilities as f on f.facility_id = c.facility_id
    where c.occupied

),

-- the estate's restriction windows in force at each stay's local start, with their local end
windows as (

    select
        s.facility_id,
        s.zone_id,
        s.bay_id,
        s.ts,
        r.max_stay_minutes,
        case
            when r.start_time < r.end_time then cast(s.start_local as date) + r.end_time
            when cast(s.start_local as time) >= r.start_time
                then (cast(s.start_local as date) + 1) + r.end_time
            else cast(s.start_local as date) + r.end_time
        end as window_end_local
    from starts as s
    inner join restrictions as r
        on r.facility_id = s.facility_id and r.zone_id = s.zone_id and (
            (
                r.start_time < r.end_time
                and r.day_of_week = isodow(s.start_local)
                and cast(s.start_local as time) >= r.start_time
                and cast(s.start_local as time) < r.end_time
            )
            or (
                r.start_time > r.end_time
                and (
                    (
                        r.day_of_week = isodow(s.start_local)
                        and cast(s.start_local as time) >= r.start_time
                    )
                    or (
                        r.day_of_week = isodow(s.start_local - interval 1 day)
                        and cast(s.start_local as time) < r.end_time
                    )
                )
            )
        )

),

-- the strictest window, when several apply
window_limits as (

    select
        facility_id,
        zone_id,
        bay_id,
        ts,
        min(max_stay_minutes) as max_stay_minutes,
        arg_min(window_end_local, max_stay_minutes) as window_end_local
    from windows
    group by all

),

stays as (

    select
        ---------- where
        s.facility_id,
        s.zone_id,
        s.bay_id,
        s.facility_id || '/' || s.zone_id || '/' || s.bay_id as subject_id,

        ---------- when
        s.ts as stay_start,
        s.next_ts as stay_end,
        s.start_local as stay_start_local,
        s.next_ts is null as is_ongoing,
        date_diff('second', s.ts, s.next_ts) as duration_s,
        date_diff('second', s.ts, coalesce(s.next_ts, s.horizon)) as observed_duration_s,

        ---------- rules: the sign reported with the arrival, else the estate's
        coalesce(s.sign_max_stay_minutes, w.max_stay_minutes, s.zone_max_stay_minutes)
            as max_stay_minutes,
        case
            when s.sign_max_stay_minutes is not null then s.sign_restricted_until
            when w.max_stay_minutes is not null then timezone(s.timezone, w.window_end_local)
        end as restricted_until,
        s.vendor_in_violation,

        ---------- lineage
        {{ loaded_at() }} as dbt_loaded_at

    from starts as s
    left join window_limits as w
        on w.facility_id = s.facility_id and w.zone_id = s.zone_id and w.bay_id = s.bay_id
        and w.ts = s.ts

),

judged as (

    select
        * exclude (dbt_loaded_at),
        coalesce(
            vendor_in_violation,
            -- the time in the bay while the restriction applied, against its limit
            date_diff(
                'second',
                stay_start,
                least(stay_start + to_seconds(observed_duration_s), restricted_until)
            ) > max_stay_minutes * 60
        ) as is_overstay,
        dbt_loaded_at
    from stays

)

select * from judged
{%- if is_incremental() %}
union all by name
-- the stays of the bays redone that started before `since`, as they were
select h.*
from held as h
inner join redo as r
    on r.facility_id = h.facility_id and r.zone_id = h.zone_id and r.bay_id = h.bay_id
    and h.stay_start < r.since
{%- endif %}
