-- Signed restrictions of on-street zones: on an ISO day of the week (1 = Monday), between two
-- local times, the longest stay allowed. An end before the start is a window past midnight.

with source as (

    select * from {{ source('estate', 'restrictions') }}

)

select
    facility_id,
    zone_id,
    day_of_week,
    start_time,
    end_time,
    max_stay_minutes
from source
