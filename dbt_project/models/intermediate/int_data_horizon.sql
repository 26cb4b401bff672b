-- The span of the data: the oldest and the newest event time in the lake. The newest is the
-- "now" of every mart (open sessions count until it, device silence is measured to it), so
-- a rebuild of the same lake gives the same numbers whatever the wall clock says.

select
    min(ts) as data_start,
    max(ts) as horizon
from {{ ref('stg_events') }}
