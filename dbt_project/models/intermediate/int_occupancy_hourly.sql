{{
    config(
        materialized='incremental',
        unique_key='hour_start',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Read by incremental runs only (the rows loaded since the last build), so declared here:
-- depends_on: {{ ref('stg_events') }}
-- depends_on: {{ ref('stg_sessions') }}

-- How many vehicles each subject held, hour by hour: the local hours of its facility's time
-- zone (`hour_start`, a UTC instant: on the hour in most zones, half past in Asia/Kolkata).
--
-- A sweep over the changes: the running sum of the deltas is the level (vehicles inside)
-- from one change to the next; a zero change at every hour start cuts the segments at hour
-- boundaries; the last segment ends at the facility's own horizon (int_facility_horizons:
-- its newest event plus the staleness limit), so a feed that ended long ago has no hours after. Per hour:
--   occupied_seconds = sum(level x segment seconds)        (vehicle-seconds)
--   observed_seconds = seconds of the hour at or after the subject's first change and before
--                      the horizon (3600 for every full hour)
--   peak_occupied    = highest level in the hour (for counts: the highest reading in effect)
--   flagged_seconds  = seconds under a flagged count reading (below zero, above capacity):
--                      left out of observed_seconds, occupied_seconds and peak_occupied, so a
--                      bad reading is excluded where it holds and never spills into the rates
--                      of later hours (the raw_* figures keep it)
-- The changes of one instant are netted (a session is [entry, exit)), so an exit and an
-- entry at the same second never show a vehicle too many.
--
-- Gated facilities: the level is clipped to the capacity. Open sessions count until the
-- horizon, and a session whose exit the camera missed stays OPEN until the matcher abandons
-- it (the plate's next entry, or 72 h): such phantom vehicles can push the session count
-- above the number of spaces, which a garage cannot hold. The unclipped figures are kept
-- (raw_*) and the time spent above capacity is reported. Counting systems are not clipped
-- (ARCHITECTURE: readings above capacity are kept and flagged); bays cannot overlap.
--
-- Incremental: a run recomputes the hours from `since` on and replaces them (delete+insert on
-- hour_start, every subject's row of those hours). `since` is the earliest hour a change
-- loaded after this table's last build can touch: the hour of the old horizon (its last
-- segment ended there), the hour of the earliest bay or count event loaded since (a report
-- changes the deltas at its time and later only), and the hour of the entry of every session
-- loaded since (a new version may add its exit, or drop the session when it is abandoned).
-- The sweep then starts from the level each subject held at `since` (the sum of the older
-- changes), so the hours equal a full build's. A full build sweeps everything (without
-- these steps, which cost it a third more). A change of the estate's capacities or zones
-- needs a full refresh.

with changes as (

    select subject_id, ts, delta, flagged from {{ ref('int_occupancy_changes') }}

),

horizons as (

    -- each subject ends at its facility's own horizon (int_facility_horizons)
    select s.subject_id, h.horizon
    from {{ ref('int_occupancy_subjects') }} as s
    inner join {{ ref('int_facility_horizons') }} as h on h.facility_id = s.facility_id

),

{%- if is_incremental() %}
recompute as (

    {%- set held = held_loaded_at() %}
    select date_trunc('hour', coalesce(least(
        (select max(hour_start) from {{ this }}),
        (
            select min(ts) from {{ ref('stg_events') }}
            where dbt_loaded_at > {{ held }} and event_type in ('bay_status', 'occupancy_count')
        ),
        (select min(entry_ts) from {{ ref('stg_sessions') }} where dbt_loaded_at > {{ held }}),
        -- the last hour held of every subject whose horizon has moved past it
        (
            select min(t.last_hour)
            from (
                select subject_id, max(hour_start) as last_hour from {{ this }} group by all
            ) as t
            inner join horizons as h on h.subject_id = t.subject_id
            where h.horizon >= t.last_hour + interval 1 hour
        )
    ), {{ epoch() }})) as since

),
{%- endif %}

subjects as (

    select
        c.subject_id,
        min(c.ts) as first_ts,
        any_value(s.capacity) as capacity,
        any_value(s.timezone) as timezone,
        any_value(s.subject_kind = 'facility' and s.facility_kind = 'gated') as is_clipped,
        any_value(h.horizon) as horizon
    from changes as c
    left join {{ ref('int_occupancy_subjects') }} as s on s.subject_id = c.subject_id
    inner join horizons as h on h.subject_id = c.subject_id
    group by c.subject_id

),

{%- set first = 'greatest(first_ts, (select since from recompute))'
    if is_incremental() else 'first_ts' %}
{%- set tz = "coalesce(timezone, 'UTC')" %}
subject_hours as (

    -- hours are the subject's local hours (half past in a zone such as Asia/Kolkata)
    select
        *,
        {{ local_hour_start(first, tz) }} as first_hour,
        {{ local_hour_start('horizon', tz) }} as last_hour
    from subjects

),

hours as (

    select
        subject_id,
        unnest(generate_series(first_hour, last_hour, interval 1 hour)) as hour_start
    from subject_hours

),
{%- if is_incremental() %}

opening as (

    -- the level each subject held an hour before `since` (the start of a local hour that
    -- began up to 59 minutes before it): all its older changes, as one change there, with
    -- the flag of the reading then in effect
    select
        subject_id,
        (select since from recompute) - interval 1 hour as ts,
        sum(delta) as delta,
        arg_max(flagged, ts) filter (where flagged is not null) as flagged
    from changes
    where ts < (select since from recompute) - interval 1 hour
    group by subject_id

),
{%- endif %}

points as (

    -- the changes of one instant are netted: a vehicle leaving as another enters is no change
    select subject_id, ts, sum(delta) as delta, bool_or(flagged) as flagged
    from (
        select subject_id, ts, delta, flagged from changes
        {%- if is_incremental() %}
        where ts >= (select since from recompute) - interval 1 hour
        union all
        select subject_id, ts, delta, flagged from opening
        {%- endif %}
        union all
        select subject_id, hour_start, 0, null from hours
    )
    group by subject_id, ts

),

levels as (

    select
        subject_id,
        ts,
        sum(delta) over (
            partition by subject_id order by ts rows between unbounded preceding and current row
        ) as level,
        -- the flag of the newest reading at or before ts (hour starts carry none)
        coalesce(last_value(flagged ignore nulls) over (
            partition by subject_id order by ts rows between unbounded preceding and current row
        ), false) as is_flagged,
        lead(ts) over (partition by subject_id order by ts) as next_ts
    from points

),

segments as (

    select
        l.subject_id,
        {{ local_hour_start('l.ts', "coalesce(s.timezone, 'UTC')") }} as hour_start,
        l.level as raw_level,
        l.is_flagged,
        case when s.is_clipped then least(l.level, coalesce(cp.capacity, s.capacity))
            else l.level end as level,
        l.level > coalesce(cp.capacity, s.capacity) as is_over_capacity,
        date_diff('microsecond', l.ts, least(coalesce(l.next_ts, s.horizon), s.horizon))
            / 1e6 as seconds
    from levels as l
    inner join subject_hours as s on s.subject_id = l.subject_id
    -- the capacity in force on the local day of the segment (facilities; zones: their bays)
    left join {{ ref('capacity_periods') }} as cp
        on cp.facility_id = l.subject_id
        and cast({{ local_time('l.ts', 's.timezone') }} as date) >= cp.valid_from
        and cast({{ local_time('l.ts', 's.timezone') }} as date) < cp.valid_to
    where l.ts >= s.first_ts and l.ts <= s.horizon
        -- (incremental) not the part of an hour before the first one redone
        and {{ local_hour_start('l.ts', "coalesce(s.timezone, 'UTC')") }} >= s.first_hour

)

select
    subject_id,
    hour_start,
    coalesce(sum(seconds) filter (where not is_flagged), 0) as observed_seconds,
    coalesce(sum(level * seconds) filter (where not is_flagged), 0) as occupied_seconds,
    cast(max(level) filter (where not is_flagged) as bigint) as peak_occupied,
    sum(raw_level * seconds) as raw_occupied_seconds,
    cast(max(raw_level) as bigint) as raw_peak_occupied,
    coalesce(sum(seconds) filter (where is_over_capacity), 0) as over_capacity_seconds,
    coalesce(sum(seconds) filter (where is_flagged), 0) as flagged_seconds,
    {{ loaded_at() }} as dbt_loaded_at
from segments
group by subject_id, hour_start
having sum(seconds) > 0
