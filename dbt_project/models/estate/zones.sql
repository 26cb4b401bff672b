-- On-street zones: a street section of sensor-equipped bays with a maximum stay.

with source as (

    select * from {{ source('estate', 'zones') }}

)

select
    facility_id,
    zone_id,
    name,
    bays,
    max_stay_minutes
from source
