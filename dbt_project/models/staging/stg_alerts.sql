-- One row per alert: its newest transition (version 2 = resolved, else still open).

with source as (

    select * from {{ lake_source('alerts') }}

),

latest as (

    select * from source
    qualify row_number() over (partition by alert_id order by version desc, ts desc) = 1

),

renamed as (

    select
        alert_id,
        alert_type,
        severity,
        state,
        facility_id,
        subject_id,
        opened_at,
        resolved_at,
        ts as changed_at,
        value,
        detail,
        version
    from latest

)

select * from renamed
