-- Everything occupancy is measured for, with its capacity: facilities ("FAC-001"), on-street
-- zones ("FAC-002/Z-01", the keys the streaming occupancy agent uses) and single bays
-- ("FAC-002/Z-01/Z-01-B001", capacity 1: the per-sensor check).

with facilities as (

    select * from {{ ref('facilities') }}

),

zones as (

    select * from {{ ref('zones') }}

),

bays as (

    select distinct facility_id, zone_id, bay_id from {{ ref('int_bay_status') }}

)

select
    facility_id as subject_id,
    'facility' as subject_kind,
    facility_id,
    cast(null as varchar) as zone_id,
    cast(null as varchar) as bay_id,
    kind as facility_kind,
    capacity,
    timezone,
    cast(null as integer) as max_stay_minutes
from facilities

union all

select
    z.facility_id || '/' || z.zone_id,
    'zone',
    z.facility_id,
    z.zone_id,
    null,
    f.kind,
    z.bays,
    f.timezone,
    z.max_stay_minutes
from zones as z
inner join facilities as f on f.facility_id = z.facility_id

union all

select
    b.facility_id || '/' || b.zone_id || '/' || b.bay_id,
    'bay',
    b.facility_id,
    b.zone_id,
    b.bay_id,
    f.kind,
    1,
    f.timezone,
    z.max_stay_minutes
from bays as b
inner join facilities as f on f.facility_id = b.facility_id
left join zones as z on z.facility_id = b.facility_id and z.zone_id = b.zone_id
