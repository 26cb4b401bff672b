-- The facilities of the estate: kind, capacity in force today, time zone, tariff, max stay.

with source as (

    select * from {{ source('estate', 'facilities') }}

)

select
    facility_id,
    name,
    kind,
    capacity,
    timezone,
    lat,
    lon,
    base_fee,
    hourly_rate,
    max_fee,
    grace_minutes,
    max_stay_hours,
    currency
from source
