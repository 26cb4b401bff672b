-- The local days on which each facility of the estate sent any data: the revenue mart's days
-- (a day with data but no payment is a zero-revenue day; a day without data is no day).

select distinct
    e.facility_id,
    cast({{ local_time('e.ts', 'f.timezone') }} as date) as local_date
from {{ ref('stg_events') }} as e
inner join {{ ref('facilities') }} as f on f.facility_id = e.facility_id
