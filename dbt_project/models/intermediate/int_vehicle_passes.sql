-- A view: a thin filter of stg_events (a table), read by the models that need it.
{{ config(materialized='view') }}

-- Entries and exits read by the ANPR cameras of gated facilities.

with events as (

    select * from {{ ref('stg_events') }}
    where event_type in ('entry', 'exit')

)

select
    event_id,
    event_type,
    facility_id,
    device_id,
    source,
    ts,
    ts_local,
    plate,
    plate_confidence,
    gate_id,
    lane,
    vehicle_type,
    dbt_loaded_at
from events
