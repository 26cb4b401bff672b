-- Each facility's own "now": its data is in effect until its newest event plus the staleness
-- limit (var `staleness_minutes`), and never past the lake's newest event. A feed that ended
-- long before another facility's newest data ends there, with no invented hours after it.

with events as (

    select facility_id, min(ts) as data_start, max(ts) as newest
    from {{ ref('stg_events') }}
    where facility_id in (select facility_id from {{ ref('facilities') }})
    group by facility_id

),

lake as (

    select horizon from {{ ref('int_data_horizon') }}

)

select
    e.facility_id,
    e.data_start,
    e.newest,
    least(e.newest + interval '{{ var("staleness_minutes") }} minutes', l.horizon) as horizon
from events as e
cross join lake as l
