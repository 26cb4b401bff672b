-- Daily targets set by operations, per facility (zone_id null) or per on-street zone.

with source as (

    select * from {{ source('estate', 'targets') }}

)

select
    facility_id,
    zone_id,
    metric,
    daily_target
from source
