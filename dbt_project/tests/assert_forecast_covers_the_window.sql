-- Every facility and zone gets a forecast for each hour of the window, no more, no less.

select subject_id, count(*) as hours
from {{ ref('mart_occupancy_forecast') }}
group by subject_id
having count(*) <> {{ var('forecast_hours') }}
