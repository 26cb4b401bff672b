-- One row per dead letter id (a re-delivered message is the same dead letter): the first one.
-- `date` is the one definition of the day a dead letter counts on, on the events' basis (the
-- UTC date of the event time): that of its place in the feed, else of its receipt.

with source as (

    select * from {{ lake_source('deadletter') }}

),

deduplicated as (

    select * from source
    qualify row_number() over (partition by dead_letter_id order by received_at) = 1

),

renamed as (

    select
        dead_letter_id,
        source,
        reason,
        payload_size,
        payload_b64,
        received_at,
        feed_time,
        cast(coalesce(feed_time, received_at) as date) as "date",
        topic,
        "partition" as kafka_partition,
        "offset" as kafka_offset
    from deduplicated

)

select * from renamed
