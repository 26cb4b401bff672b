-- On-street occupancy per sensor: a bay is occupied at most the whole hour and never less
-- than not at all (0 <= occupied share <= 1), and holds at most one vehicle.

select h.*
from {{ ref('int_occupancy_hourly') }} as h
inner join {{ ref('int_occupancy_subjects') }} as s on s.subject_id = h.subject_id
where s.subject_kind = 'bay'
  and (
      h.occupied_seconds < 0
      or h.occupied_seconds > h.observed_seconds + 0.000001
      or h.peak_occupied not in (0, 1)
  )
