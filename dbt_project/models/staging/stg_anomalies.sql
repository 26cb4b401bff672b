-- One row per anomaly id (a replay finds the same anomaly again): the first detection.

with source as (

    select * from {{ lake_source('anomalies') }}

),

deduplicated as (

    select * from source
    qualify row_number() over (partition by anomaly_id order by detected_at, ts) = 1

),

renamed as (

    select
        anomaly_id,
        anomaly_type,
        facility_id,
        event_id,
        event_type,
        plate,
        ts,
        detected_at,
        detail
    from deduplicated

)

select * from renamed
