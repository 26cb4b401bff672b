{{
    config(
        materialized='incremental',
        unique_key='hour_start_utc',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

-- Occupancy per facility (and per on-street zone) and hour; see the model's description.
--
-- Incremental: a run redoes the hours from `since` on (delete+insert on hour_start_utc, every
-- subject's row of those hours): the earliest of the hours int_occupancy_hourly redid, the
-- starts of the bay stays int_bay_stays redid (an ongoing stay can turn into an overstay) and
-- the entries and exits loaded since this table's last build.

with {% if is_incremental() %}recompute as (

    {%- set held = held_loaded_at() %}
    select date_trunc('hour', coalesce(least(
        (select min(hour_start) from {{ ref('int_occupancy_hourly') }} where dbt_loaded_at > {{ held }}),
        (select min(stay_start) from {{ ref('int_bay_stays') }} where dbt_loaded_at > {{ held }}),
        (select min(ts) from {{ ref('int_vehicle_passes') }} where dbt_loaded_at > {{ held }})
    ), timestamptz '9999-12-31 00:00:00+00')) as since

),

{% endif %}hourly as (

    select * from {{ ref('int_occupancy_hourly') }}
    {%- if is_incremental() %}
    where hour_start >= (select since from recompute)
    {%- endif %}

),

subjects as (

    select * from {{ ref('int_occupancy_subjects') }}
    where subject_kind in ('facility', 'zone')

),

time_zones as (

    -- every hour is a local hour of its facility (half past in Asia/Kolkata)
    select facility_id, timezone from {{ ref('facilities') }}

),

passes as (

    select
        v.facility_id as subject_id,
        {{ local_hour_start('v.ts', "coalesce(f.timezone, 'UTC')") }} as hour_start,
        count(*) filter (where v.event_type = 'entry') as entries,
        count(*) filter (where v.event_type = 'exit') as exits
    from {{ ref('int_vehicle_passes') }} as v
    left join time_zones as f on f.facility_id = v.facility_id
    {%- if is_incremental() %}
    where v.ts >= (select since from recompute)
    {%- endif %}
    group by all

),

{%- set stays_since = "\n    where coalesce(stay_end, stay_start) >= (select since from recompute)"
    if is_incremental() else "" %}
stays as (

    select
        facility_id || '/' || zone_id as subject_id, facility_id, stay_start, stay_end,
        is_overstay
    from {{ ref('int_bay_stays') }}
    {{- stays_since }}
    union all
    select facility_id, facility_id, stay_start, stay_end, is_overstay
    from {{ ref('int_bay_stays') }}
    {{- stays_since }}

),

stay_starts as (

    select
        s.subject_id,
        {{ local_hour_start('s.stay_start', "coalesce(f.timezone, 'UTC')") }} as hour_start,
        count(*) as entries,
        count(*) filter (where s.is_overstay) as overstays
    from stays as s
    left join time_zones as f on f.facility_id = s.facility_id
    group by all

),

stay_ends as (

    select s.subject_id, {{ local_hour_start('s.stay_end', "coalesce(f.timezone, 'UTC')") }} as hour_start, count(*) as exits
    from stays as s
    left join time_zones as f on f.facility_id = s.facility_id
    where s.stay_end is not null
    group by all

),

readings as (

    select
        case when c.zone_id is null then c.facility_id else c.facility_id || '/' || c.zone_id end
            as subject_id,
        {{ local_hour_start('c.ts', "coalesce(f.timezone, 'UTC')") }} as hour_start,
        count(*) as readings,
        count(*) filter (where c.is_flagged) as flagged_readings
    from {{ ref('int_occupancy_counts') }} as c
    left join time_zones as f on f.facility_id = c.facility_id
    {%- if is_incremental() %}
    where c.ts >= (select since from recompute)
    {%- endif %}
    group by all

),

joined as (

    select
        h.*,
        s.subject_kind,
        s.facility_id,
        s.zone_id,
        s.facility_kind,
        -- the capacity in force on the local day (estate capacity periods), else today's
        coalesce(cp.capacity, s.capacity) as capacity,
        s.timezone,
        {{ local_time('h.hour_start', 's.timezone') }} as hour_start_local,
        case s.facility_kind
            when 'gated' then coalesce(p.entries, 0)
            when 'on_street' then coalesce(ss.entries, 0)
        end as entries,
        case s.facility_kind
            when 'gated' then coalesce(p.exits, 0)
            when 'on_street' then coalesce(se.exits, 0)
        end as exits,
        case when s.facility_kind = 'on_street' then coalesce(ss.overstays, 0) end as overstays,
        case when s.facility_kind = 'counted' then coalesce(r.readings, 0) end as readings,
        case
            when s.facility_kind = 'counted' then coalesce(r.flagged_readings, 0)
        end as flagged_readings
    from hourly as h
    inner join subjects as s on s.subject_id = h.subject_id
    left join passes as p on p.subject_id = h.subject_id and p.hour_start = h.hour_start
    left join stay_starts as ss on ss.subject_id = h.subject_id and ss.hour_start = h.hour_start
    left join stay_ends as se on se.subject_id = h.subject_id and se.hour_start = h.hour_start
    left join readings as r on r.subject_id = h.subject_id and r.hour_start = h.hour_start
    left join {{ ref('capacity_periods') }} as cp
        on s.subject_kind = 'facility'
        and cp.facility_id = s.facility_id
        and cast({{ local_time('h.hour_start', 's.timezone') }} as date) >= cp.valid_from
        and cast({{ local_time('h.hour_start', 's.timezone') }} as date) < cp.valid_to

),

final as (

    select
        ---------- what and when
        subject_id,
        subject_kind,
        facility_id,
        zone_id,
        facility_kind,
        hour_start as hour_start_utc,
        hour_start_local,
        cast(hour_start_local as date) as local_date,
        hour(hour_start_local) as local_hour,
        isodow(hour_start_local) as local_day_of_week,
        timezone,

        ---------- occupancy
        capacity,
        observed_seconds,
        occupied_seconds,
        -- an hour wholly under flagged readings has no rate (a gap), not a wrong one
        case when observed_seconds > 0 then occupied_seconds / observed_seconds end
            as avg_occupied,
        peak_occupied,
        case when observed_seconds > 0 then occupied_seconds / observed_seconds / capacity end
            as occupancy_rate,
        peak_occupied / capacity as peak_occupancy_rate,

        ---------- flow
        entries,
        exits,
        overstays,
        case when entries > 0 then overstays / entries end as overstay_share,

        ---------- quality
        raw_peak_occupied,
        raw_occupied_seconds / (observed_seconds + flagged_seconds) as raw_avg_occupied,
        over_capacity_seconds,
        readings,
        flagged_readings,
        flagged_seconds,

        {{ loaded_at() }} as dbt_loaded_at

    from joined

)

select * from final
