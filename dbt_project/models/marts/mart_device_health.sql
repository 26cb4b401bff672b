-- Health of every device that has sent telemetry, as of the data horizon.

with devices as (

    -- first and last reading, count and last values per device, kept incrementally
    -- of the estate's facilities (others are counted in mart_data_quality_daily)
    select * exclude (dbt_loaded_at) from {{ ref('int_device_readings') }}
    where facility_id in (select facility_id from {{ ref('facilities') }})

),

horizon as (

    select horizon from {{ ref('int_data_horizon') }}

),

open_alerts as (

    select
        subject_id as device_id,
        count(*) as open_alerts,
        count(*) filter (where severity = 'WARNING') as open_warning_alerts,
        count(*) filter (where severity = 'CRITICAL') as open_critical_alerts,
        list(alert_type order by alert_type) as open_alert_types,
        bool_or(alert_type = 'OFFLINE') as has_offline_alert
    from {{ ref('stg_alerts') }}
    where state = 'OPEN' and alert_type in ('OFFLINE', 'HIGH_POWER', 'INVALID_DATA')
    group by subject_id

),

thresholds as (

    select
        d.*,
        h.horizon as as_of,
        date_diff('second', d.last_seen, h.horizon) as seconds_since_last_seen,
        case d.device_kind
            when 'sensor' then {{ var('sensor_offline_after_minutes') }}
            else {{ var('device_offline_after_minutes') }}
        end * 60 as offline_after_s,
        case d.device_kind
            when 'sensor' then {{ var('sensor_stale_after_minutes') }}
            else {{ var('device_stale_after_minutes') }}
        end * 60 as stale_after_s
    from devices as d
    cross join horizon as h

),

scored as (

    select
        t.*,
        coalesce(a.open_alerts, 0) as open_alerts,
        coalesce(a.open_warning_alerts, 0) as open_warning_alerts,
        coalesce(a.open_critical_alerts, 0) as open_critical_alerts,
        coalesce(a.open_alert_types, []) as open_alert_types,
        coalesce(a.has_offline_alert, false) as has_offline_alert,
        t.seconds_since_last_seen >= t.stale_after_s as is_stale
    from thresholds as t
    left join open_alerts as a on a.device_id = t.device_id

),

final as (

    select
        ---------- device
        facility_id,
        device_id,
        source,
        device_kind,

        ---------- seen
        first_seen,
        last_seen,
        readings,
        as_of,
        seconds_since_last_seen,
        offline_after_s,
        stale_after_s,
        is_stale,
        last_voltage_v,
        last_current_a,
        last_power_w,
        last_battery_pct,

        ---------- alerts
        open_alerts,
        open_warning_alerts,
        open_critical_alerts,
        open_alert_types,

        ---------- health
        cast(
            greatest(0, least(100, 100 - 10 * open_alerts - case when is_stale then 30 else 0 end))
            as integer
        ) as health_score,
        case
            when has_offline_alert or seconds_since_last_seen >= offline_after_s then 'OFFLINE'
            when open_critical_alerts > 0 then 'CRITICAL'
            when open_warning_alerts > 0 then 'WARNING'
            else 'OK'
        end as status

    from scored

)

select * from final
