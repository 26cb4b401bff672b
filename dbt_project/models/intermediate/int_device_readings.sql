{{
    config(
        materialized='incremental',
        unique_key='device_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

-- What each device's telemetry says so far: its first and last reading, how many, and the
-- values of the last one. Incremental: the readings loaded since the last build are
-- summarised per device and folded into the devices' rows (the earlier first, the later
-- last, the counts added), so a run reads the new readings only.

with new_readings as (

    select * from {{ ref('int_telemetry') }}
    {%- if is_incremental() %}
    where dbt_loaded_at > {{ held_loaded_at() }}
    {%- endif %}

),

batch as (

    select
        device_id,
        any_value(facility_id) as facility_id,
        any_value(source) as source,
        any_value(device_kind) as device_kind,
        min(ts) as first_seen,
        max(ts) as last_seen,
        count(*) as readings,
        arg_max(voltage_v, ts) as last_voltage_v,
        arg_max(current_a, ts) as last_current_a,
        arg_max(power_w, ts) as last_power_w,
        arg_max(battery_pct, ts) as last_battery_pct
    from new_readings
    group by device_id

){% if is_incremental() %},

folded as (

    select
        b.device_id,
        coalesce(h.facility_id, b.facility_id) as facility_id,
        coalesce(h.source, b.source) as source,
        coalesce(h.device_kind, b.device_kind) as device_kind,
        least(h.first_seen, b.first_seen) as first_seen,
        greatest(h.last_seen, b.last_seen) as last_seen,
        coalesce(h.readings, 0) + b.readings as readings,
        -- the newest values: the batch's, unless the device held a later reading
        case when h.last_seen > b.last_seen then h.last_voltage_v else b.last_voltage_v end
            as last_voltage_v,
        case when h.last_seen > b.last_seen then h.last_current_a else b.last_current_a end
            as last_current_a,
        case when h.last_seen > b.last_seen then h.last_power_w else b.last_power_w end
            as last_power_w,
        case when h.last_seen > b.last_seen then h.last_battery_pct else b.last_battery_pct end
            as last_battery_pct
    from batch as b
    left join {{ this }} as h on h.device_id = b.device_id

){% endif %}

select *, {{ loaded_at() }} as dbt_loaded_at
from {% if is_incremental() %}folded{% else %}batch{% endif %}
