-- Expected occupancy for each hour of the 7 days (var forecast_hours) from the local midnight
-- of the day the data ends, per facility (and on-street zone): the mean of the same local hour one, two, three
-- and four weeks earlier (those that exist), with the actuals beside it where they exist.

with hourly as (

    select * from {{ ref('mart_occupancy_hourly') }}

),

horizon as (

    select horizon from {{ ref('int_data_horizon') }}

),

subjects as (

    select
        subject_id,
        any_value(subject_kind) as subject_kind,
        any_value(facility_id) as facility_id,
        any_value(zone_id) as zone_id,
        any_value(facility_kind) as facility_kind,
        any_value(timezone) as timezone,
        any_value(capacity) as capacity
    from hourly
    group by subject_id

),

windows as (

    -- the forecast window starts at local midnight of the horizon's local date
    select
        s.*,
        cast(cast({{ local_time('h.horizon', 's.timezone') }} as date) as timestamp)
            as window_start_local
    from subjects as s
    cross join horizon as h

),

window_hours as (

    select
        w.*,
        unnest(generate_series(
            w.window_start_local,
            w.window_start_local + to_hours({{ var('forecast_hours') }} - 1),
            interval 1 hour
        )) as hour_start_local
    from windows as w

),

history as (

    select subject_id, hour_start_local, avg(avg_occupied) as avg_occupied
    from hourly
    group by all  -- the repeated local hour of a DST fall-back night is averaged

),

forecast as (

    select
        wh.subject_id,
        wh.hour_start_local,
        avg(h.avg_occupied) as expected_avg_occupied,
        count(h.avg_occupied) as weeks_used
    from window_hours as wh
    cross join (select unnest([1, 2, 3, 4]) as weeks_back) as back
    left join history as h
        on h.subject_id = wh.subject_id
        and h.hour_start_local = wh.hour_start_local - to_days(7 * back.weeks_back)
    group by all

),

actuals as (

    select subject_id, hour_start_local, avg(avg_occupied) as actual_avg_occupied
    from hourly
    group by all

),

final as (

    select
        ---------- what and when
        wh.subject_id,
        wh.subject_kind,
        wh.facility_id,
        wh.zone_id,
        wh.facility_kind,
        wh.window_start_local,
        wh.hour_start_local,
        cast(wh.hour_start_local as date) as local_date,
        hour(wh.hour_start_local) as local_hour,
        isodow(wh.hour_start_local) as local_day_of_week,
        wh.timezone,
        wh.capacity,

        ---------- forecast
        f.weeks_used,
        f.expected_avg_occupied,
        f.expected_avg_occupied / wh.capacity as expected_occupancy_rate,

        ---------- actuals
        a.actual_avg_occupied,
        a.actual_avg_occupied / wh.capacity as actual_occupancy_rate,
        a.actual_avg_occupied - f.expected_avg_occupied as forecast_error

    from window_hours as wh
    inner join forecast as f
        on f.subject_id = wh.subject_id and f.hour_start_local = wh.hour_start_local
    left join actuals as a
        on a.subject_id = wh.subject_id and a.hour_start_local = wh.hour_start_local

)

select * from final
