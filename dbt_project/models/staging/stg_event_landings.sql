-- Every landed row of the events table, duplicates included (deliberately not de-duplicated):
-- the data-quality mart compares landings with distinct events. Narrow, so it reads fast.

with source as (

    select * from {{ lake_source('events') }}

),

renamed as (

    select
        event_id,
        event_type,
        source,
        facility_id,
        ts,
        ingested_at,
        "date" as lake_date
    from source

)

select * from renamed
