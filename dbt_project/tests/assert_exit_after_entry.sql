-- Every session that has an exit left after it entered.

select session_id, entry_ts, exit_ts
from {{ ref('fct_parking_sessions') }}
where exit_ts < entry_ts
