-- The week's profile: per facility (and on-street zone), local day of week and local hour,
-- how full it is on average over every such hour observed.

with hourly as (

    select * from {{ ref('mart_occupancy_hourly') }}

),

profile as (

    select
        subject_id,
        subject_kind,
        facility_id,
        zone_id,
        facility_kind,
        local_day_of_week,
        local_hour,
        any_value(capacity) as capacity,
        count(*) as hours_observed,
        avg(avg_occupied) as avg_occupied,
        avg(occupancy_rate) as avg_occupancy_rate,
        max(peak_occupied) as max_peak_occupied,
        avg(entries) as avg_entries,
        avg(exits) as avg_exits
    from hourly
    group by all

),

final as (

    select
        subject_id,
        subject_kind,
        facility_id,
        zone_id,
        facility_kind,
        local_day_of_week,
        local_hour,
        (local_day_of_week - 1) * 24 + local_hour as hour_of_week,
        capacity,
        hours_observed,
        avg_occupied,
        avg_occupancy_rate,
        max_peak_occupied,
        avg_entries,
        avg_exits,
        -- rounded: a float average summed in another order differs in its last bits, which
        -- otherwise ranks equal hours differently from one build to the next
        rank() over (
            partition by subject_id order by round(avg_occupied, 9) desc
        ) as busiest_rank
    from profile

)

select * from final
