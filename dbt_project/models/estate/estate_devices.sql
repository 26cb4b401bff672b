-- Devices the operator registered in the estate (devices are also learned from their events).

with source as (

    select * from {{ source('estate', 'devices') }}

)

select
    facility_id,
    device_id,
    vendor,
    kind,
    zone_id
from source
