{{
    config(
        materialized='incremental',
        unique_key='date',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

-- The event side of mart_data_quality_daily, per lake day (the UTC date of the event time,
-- the lake's `date` partition) and vendor: rows landed, distinct events and what is wrong
-- with them. These are the counts that read every event, so they are kept here and updated
-- incrementally: a run recounts the days that received rows since its last build (the lake
-- rows ingested after the newest `landed_until` held, minus `event_lookback_hours`) and
-- replaces them (delete+insert on date: every vendor of those days). The filter on the
-- `date` partition lets DuckDB skip the files of every other day.

with new_rows as (

    {%- if is_incremental() %}
    select min(lake_date) as since
    from {{ ref('stg_event_landings') }}
    where ingested_at > {{ incremental_cutoff('landed_until', var('event_lookback_hours')) }}
    {%- else %}
    select cast({{ epoch() }} as date) as since  -- a full build counts every day
    {%- endif %}

),

landings as (

    select
        lake_date as date,
        source,
        count(*) as rows_landed,
        max(ingested_at) as landed_until
    from {{ ref('stg_event_landings') }}
    where lake_date >= (select since from new_rows)
    group by all

),

events as (

    select
        lake_date as date,
        source,
        count(*) as events,
        count(*) filter (where len(flags) > 0) as flagged_events,
        -- received_at, not ingested_at: a backlog the worker reads late was delivered on time
        -- (rows of stg_events built before it had the column have it null)
        count(*) filter (where {{ is_late('coalesce(received_at, ingested_at)', 'ts') }})
            as late_events,
        count(*) filter (where {{ is_backfilled('coalesce(received_at, ingested_at)', 'ts') }})
            as backfilled_events,
        count(*) filter (where event_type = 'payment' and amount < 0) as invalid_payments,
        count(*) filter (where f.facility_id is null) as unregistered_events,
        list(distinct e.facility_id order by e.facility_id) filter (where f.facility_id is null)
            as unregistered_facilities
    from {{ ref('stg_events') }} as e
    left join {{ ref('facilities') }} as f on f.facility_id = e.facility_id
    where lake_date >= (select since from new_rows)
    group by all

)

-- every event kept in stg_events is a row landed on its day by its vendor
select
    l.date,
    l.source,
    l.rows_landed,
    coalesce(e.events, 0) as events,
    coalesce(e.flagged_events, 0) as flagged_events,
    coalesce(e.late_events, 0) as late_events,
    coalesce(e.backfilled_events, 0) as backfilled_events,
    coalesce(e.invalid_payments, 0) as invalid_payments,
    coalesce(e.unregistered_events, 0) as unregistered_events,
    coalesce(e.unregistered_facilities, []) as unregistered_facilities,
    l.landed_until
from landings as l
left join events as e on e.date = l.date and e.source = l.source
