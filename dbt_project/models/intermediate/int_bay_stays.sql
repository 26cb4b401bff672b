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
-- going at the data horizon has no end; it is an overstay once it has lasted longer than the
-- maximum stay the signs allowed when it began: the zone's restriction window in force at the
-- stay's local start time (`zone_restrictions`; a window past midnight belongs to the day it
-- starts), else the zone's max_stay_minutes (none: no limit).
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
        b.event_id
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
        ) as next_ts
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

stays as (

    select
        ---------- where
        c.facility_id,
        c.zone_id,
        c.bay_id,
        c.facility_id || '/' || c.zone_id || '/' || c.bay_id as subject_id,

        ---------- when
        c.ts as stay_start,
        c.next_ts as stay_end,
        {{ local_time('c.ts', 'f.timezone') }} as stay_start_local,
        c.next_ts is null as is_ongoing,
        date_diff('second', c.ts, c.next_ts) as duration_s,
        date_diff('second', c.ts, coalesce(c.next_ts, h.horizon)) as observed_duration_s,

        ---------- rules
        coalesce((
            select min(r.max_stay_minutes)
            from restrictions as r
            where r.facility_id = c.facility_id and r.zone_id = c.zone_id and (
                (
                    r.start_time < r.end_time
                    and r.day_of_week = isodow({{ local_time('c.ts', 'f.timezone') }})
                    and cast({{ local_time('c.ts', 'f.timezone') }} as time) >= r.start_time
                    and cast({{ local_time('c.ts', 'f.timezone') }} as time) < r.end_time
                )
                or (
                    r.start_time > r.end_time
                    and (
                        (
                            r.day_of_week = isodow({{ local_time('c.ts', 'f.timezone') }})
                            and cast({{ local_time('c.ts', 'f.timezone') }} as time)
                                >= r.start_time
                        )
                        or (
                            r.day_of_week = isodow(
                                {{ local_time('c.ts', 'f.timezone') }} - interval 1 day
                            )
                            and cast({{ local_time('c.ts', 'f.timezone') }} as time)
                                < r.end_time
                        )
                    )
                )
            )
        ), z.max_stay_minutes) as max_stay_minutes,

        ---------- lineage
        {{ loaded_at() }} as dbt_loaded_at

    from changes as c
    left join horizons as h on h.facility_id = c.facility_id
    left join zones as z on z.facility_id = c.facility_id and z.zone_id = c.zone_id
    left join facilities as f on f.facility_id = c.facility_id
    where c.occupied

),

judged as (

    select
        * exclude (dbt_loaded_at),
        observed_duration_s > max_stay_minutes * 60 as is_overstay,
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
