-- Data quality per vendor (source plugin) and UTC day: what landed, what was kept, what was
-- set aside. UTC days, because a dead letter has no facility (hence no local time zone).
-- Events count on the day of their event time and dead letters on the day of their place in
-- the feed (stg_deadletter.date), so loading old history does not make today a day of
-- nothing but dead letters.

with events as (

    -- landings and events per lake day and vendor, kept incrementally
    select * from {{ ref('int_event_quality_daily') }}

),

dead_letters as (

    select
        "date",
        source,
        count(*) as dead_letters,
        sum(payload_size) as dead_letter_bytes,
        count(*) filter (where {{ is_backfilled('received_at', 'feed_time') }})
            as backfilled_dead_letters
    from {{ ref('stg_deadletter') }}
    group by all

),

-- the session matcher's inputs, to find the source of what it set aside
session_events as (

    select event_id, source
    from {{ ref('stg_events') }}
    where event_type in ('entry', 'exit', 'payment')
      and event_id in (
          select event_id from {{ ref('stg_anomalies') }}
          union all
          select entry_event_id from {{ ref('stg_sessions') }} where status = 'ABANDONED'
      )

),

anomalies as (

    select
        cast(a.ts as date) as date,
        coalesce(e.source, 'unknown') as source,
        count(*) as anomalies,
        count(*) filter (where a.anomaly_type = 'UNMATCHED_EXIT') as unmatched_exits,
        count(*) filter (where a.anomaly_type = 'UNMATCHED_PAYMENT') as unmatched_payments,
        count(*) filter (where a.anomaly_type = 'DUPLICATE_EVENT') as duplicate_events
    from {{ ref('stg_anomalies') }} as a
    left join session_events as e on e.event_id = a.event_id
    group by all

),

abandoned as (

    select
        cast(s.entry_ts as date) as date,
        coalesce(e.source, 'unknown') as source,
        count(*) as abandoned_sessions
    from {{ ref('stg_sessions') }} as s
    left join session_events as e on e.event_id = s.entry_event_id
    where s.status = 'ABANDONED'
    group by all

),

spine as (

    select date, source from events
    union
    select date, source from dead_letters
    union
    select date, source from anomalies
    union
    select date, source from abandoned

),

final as (

    select
        ---------- when and who
        s.date,
        s.source,

        ---------- events
        coalesce(e.rows_landed, 0) as rows_landed,
        coalesce(e.events, 0) as events,
        -- an event id belongs to one source and one event time: the extra landings are copies
        coalesce(e.rows_landed, 0) - coalesce(e.events, 0) as duplicate_rows,
        coalesce(e.flagged_events, 0) as flagged_events,
        coalesce(e.late_events, 0) as late_events,
        coalesce(e.backfilled_events, 0) as backfilled_events,
        coalesce(e.invalid_payments, 0) as invalid_payments,
        -- events of facilities missing from the estate: kept in the lake, left out of the marts
        coalesce(e.unregistered_events, 0) as unregistered_events,
        coalesce(e.unregistered_facilities, []) as unregistered_facilities,

        ---------- rejected
        coalesce(d.dead_letters, 0) as dead_letters,
        cast(coalesce(d.dead_letter_bytes, 0) as bigint) as dead_letter_bytes,
        coalesce(d.backfilled_dead_letters, 0) as backfilled_dead_letters,
        case
            when coalesce(e.events, 0) + coalesce(d.dead_letters, 0) > 0
                then coalesce(d.dead_letters, 0)
                    / (coalesce(e.events, 0) + coalesce(d.dead_letters, 0))
        end as dead_letter_share,

        ---------- set aside by the session matcher
        coalesce(a.anomalies, 0) as anomalies,
        coalesce(a.unmatched_exits, 0) as unmatched_exits,
        coalesce(a.unmatched_payments, 0) as unmatched_payments,
        coalesce(a.duplicate_events, 0) as duplicate_events,
        coalesce(b.abandoned_sessions, 0) as abandoned_sessions

    from spine as s
    left join events as e on e.date = s.date and e.source = s.source
    left join dead_letters as d on d.date = s.date and d.source = s.source
    left join anomalies as a on a.date = s.date and a.source = s.source
    left join abandoned as b on b.date = s.date and b.source = s.source

)

select * from final
