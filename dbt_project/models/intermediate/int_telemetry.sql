-- A view: a thin filter of stg_events (a table), read by the models that need it.
{{ config(materialized='view') }}

-- Telemetry readings with the kind of device that sent them: battery bay sensors (hourly
-- heartbeat; `sensor_sources`) or powered devices (a reading a minute).

with events as (

    select * from {{ ref('stg_events') }}
    where event_type = 'telemetry'

)

select
    event_id,
    facility_id,
    device_id,
    source,
    case
        when source in ('{{ var("sensor_sources") | join("', '") }}') then 'sensor'
        else 'powered'
    end as device_kind,
    ts,
    voltage_v,
    current_a,
    power_w,
    battery_pct,
    temperature_c,
    rssi_dbm,
    dbt_loaded_at
from events
