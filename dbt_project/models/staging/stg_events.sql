{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns'
    )
}}

-- One row per canonical event: the first landing of each event id (the worker writes at
-- least once, devices re-send). Incremental: a run reads only rows ingested since the newest
-- one it holds (minus a look-back for rows landed out of order) and adds the ids it lacks.

with source as (

    select * from {{ lake_source('events') }}
    {% if is_incremental() %}
    where ingested_at > {{ incremental_cutoff('ingested_at', var('event_lookback_hours')) }}
    {% endif %}

),

deduplicated as (

    select * from source
    qualify row_number() over (partition by event_id order by ingested_at, ts, source) = 1

),

new_events as (

    select deduplicated.* from deduplicated
    {% if is_incremental() %}
    anti join {{ this }} as loaded on loaded.event_id = deduplicated.event_id
    {% endif %}

),

facilities as (

    select facility_id, timezone from {{ ref('facilities') }}

),

renamed as (

    select
        ---------- ids
        e.event_id,
        e.event_type,
        e.facility_id,
        e.device_id,
        e.source,

        ---------- times
        e.ts,
        {{ local_time('e.ts', 'f.timezone') }} as ts_local,
        f.timezone as facility_timezone,
        e.ingested_at,
        coalesce(e.received_at, e.ingested_at) as received_at,
        e."date" as lake_date,

        ---------- quality
        coalesce(e.flags, []) as flags,

        ---------- entries and exits
        e.plate,
        e.plate_confidence,
        e.gate_id,
        e.lane,
        e.vehicle_type,
        e.image_url,

        ---------- payments
        e.transaction_id,
        e.amount,
        e.currency,
        e.method,
        e.status,
        e.paid_until,
        -- payments landed before contract 1.1 have no purpose: they were all parking
        case when e.event_type = 'payment' then coalesce(e.tenders, []) end as tenders,
        case when e.event_type = 'payment' then coalesce(e.purpose, 'PARKING') end as purpose,
        e.failure_reason,

        ---------- bays and counts
        e.zone_id,
        e.bay_id,
        e.bay_occupied,
        e.max_stay_minutes as sign_max_stay_minutes,
        e.restricted_until as sign_restricted_until,
        e.in_violation as vendor_in_violation,
        e.occupied,
        e.capacity as reported_capacity,

        ---------- telemetry
        e.voltage_v,
        e.current_a,
        e.power_w,
        e.battery_pct,
        e.temperature_c,
        e.rssi_dbm,

        ---------- lineage
        {{ loaded_at() }} as dbt_loaded_at

    from new_events as e
    left join facilities as f on f.facility_id = e.facility_id

)

select * from renamed
