-- fct_parking_sessions (incremental) holds exactly the newest version of every session of the
-- estate's facilities in the lake: none missing, none stale, none extra.

with registered as (

    select * from {{ ref('stg_sessions') }}
    where facility_id in (select facility_id from {{ ref('facilities') }})

)

select
    coalesce(f.session_id, s.session_id) as session_id,
    f.version as held_version,
    s.version as lake_version
from {{ ref('fct_parking_sessions') }} as f
full outer join registered as s on s.session_id = f.session_id
where f.session_id is null
   or s.session_id is null
   or f.version <> s.version
   or f.status <> s.status
