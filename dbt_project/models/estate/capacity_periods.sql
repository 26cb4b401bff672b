-- The capacity of each facility over time: a period runs from valid_from (a local date,
-- inclusive) to valid_to (exclusive). Open ends are filled with far dates so that a join
-- on `local_date >= valid_from and local_date < valid_to` finds exactly one period.

with source as (

    select * from {{ source('estate', 'capacities') }}

)

select
    facility_id,
    coalesce(valid_from, date '1900-01-01') as valid_from,
    coalesce(valid_to, date '9999-12-31') as valid_to,
    capacity
from source
