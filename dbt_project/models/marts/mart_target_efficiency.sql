-- Daily targets (seed `targets`) against what was achieved:
-- efficiency_pct = min(100, actual / target x 100).

with targets as (

    select * from {{ ref('targets') }}

),

revenue as (

    select facility_id, cast(null as varchar) as zone_id, local_date, 'revenue' as metric,
        cast(revenue as double) as actual
    from {{ ref('mart_revenue_daily') }}
    where is_total

),

occupancy as (

    select facility_id, zone_id, local_date, 'occupancy_rate' as metric, occupancy_rate as actual
    from {{ ref('mart_occupancy_daily') }}
    union all
    select facility_id, zone_id, local_date, 'sessions', cast(sessions_started as double)
    from {{ ref('mart_occupancy_daily') }}
    where sessions_started is not null

),

actuals as (

    select * from revenue
    union all
    select * from occupancy

),

final as (

    select
        t.facility_id,
        t.zone_id,
        coalesce(t.facility_id || '/' || t.zone_id, t.facility_id) as subject_id,
        t.metric,
        a.local_date,
        t.daily_target as target,
        a.actual,
        round(least(100, a.actual / t.daily_target * 100), 2) as efficiency_pct,
        a.actual >= t.daily_target as is_met
    from targets as t
    inner join actuals as a
        on a.facility_id = t.facility_id
        and a.zone_id is not distinct from t.zone_id
        and a.metric = t.metric

)

select * from final
