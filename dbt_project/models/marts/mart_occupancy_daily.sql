-- Occupancy, turnover and dwell per facility (and on-street zone) and local day.

with hourly as (

    select * from {{ ref('mart_occupancy_hourly') }}

),

days as (

    select
        subject_id,
        subject_kind,
        facility_id,
        zone_id,
        facility_kind,
        local_date,
        any_value(timezone) as timezone,
        any_value(capacity) as capacity,
        count(*) as hours_observed,
        sum(observed_seconds) as observed_seconds,
        sum(occupied_seconds) as occupied_seconds,
        max(peak_occupied) as peak_occupied,
        cast(sum(entries) as bigint) as entries,
        cast(sum(exits) as bigint) as exits,
        cast(sum(overstays) as bigint) as overstays,
        max(raw_peak_occupied) as raw_peak_occupied,
        sum(over_capacity_seconds) as over_capacity_seconds,
        cast(sum(readings) as bigint) as readings,
        cast(sum(flagged_readings) as bigint) as flagged_readings
    from hourly
    group by all

),

-- stays that started on the local day: gated sessions (all statuses) and on-street bay stays
sessions as (

    select
        facility_id as subject_id,
        entry_date_local as local_date,
        count(*) as sessions_started,
        avg(dwell_minutes) as dwell_mean_minutes,
        median(dwell_minutes) as dwell_median_minutes,
        quantile_cont(dwell_minutes, 0.9) as dwell_p90_minutes
    from {{ ref('fct_parking_sessions') }}
    group by all

),

bay_stays as (

    select facility_id || '/' || zone_id as subject_id, stay_start_local, duration_s
    from {{ ref('int_bay_stays') }}
    union all
    select facility_id, stay_start_local, duration_s
    from {{ ref('int_bay_stays') }}

),

stays as (

    select
        subject_id,
        cast(stay_start_local as date) as local_date,
        count(*) as sessions_started,
        avg(duration_s / 60.0) as dwell_mean_minutes,
        median(duration_s / 60.0) as dwell_median_minutes,
        quantile_cont(duration_s / 60.0, 0.9) as dwell_p90_minutes
    from bay_stays
    group by all

),

flows as (

    select * from sessions
    union all
    select * from stays

),

final as (

    select
        ---------- what and when
        d.subject_id,
        d.subject_kind,
        d.facility_id,
        d.zone_id,
        d.facility_kind,
        d.local_date,
        isodow(d.local_date) as local_day_of_week,
        d.timezone,

        ---------- occupancy
        d.capacity,
        d.hours_observed,
        d.observed_seconds,
        d.occupied_seconds,
        case when d.observed_seconds > 0 then d.occupied_seconds / d.observed_seconds end
            as avg_occupied,
        d.peak_occupied,
        case when d.observed_seconds > 0 then d.occupied_seconds / d.observed_seconds / d.capacity end
            as occupancy_rate,
        d.peak_occupied / d.capacity as peak_occupancy_rate,

        ---------- flow
        d.entries,
        d.exits,
        case when d.facility_kind <> 'counted' then coalesce(f.sessions_started, 0) end
            as sessions_started,
        case when d.facility_kind <> 'counted' then coalesce(f.sessions_started, 0) end
            / d.capacity as turnover,
        round(f.dwell_mean_minutes, 2) as dwell_mean_minutes,
        round(f.dwell_median_minutes, 2) as dwell_median_minutes,
        round(f.dwell_p90_minutes, 2) as dwell_p90_minutes,
        d.overstays,
        case when d.entries > 0 then d.overstays / d.entries end as overstay_share,

        ---------- quality
        d.raw_peak_occupied,
        d.over_capacity_seconds,
        d.readings,
        d.flagged_readings

    from days as d
    left join flows as f on f.subject_id = d.subject_id and f.local_date = d.local_date

)

select * from final
