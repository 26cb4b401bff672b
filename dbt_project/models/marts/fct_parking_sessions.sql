{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

-- One row per parking session (its newest version), priced with the facility's tariff.
-- Incremental: a run takes the sessions whose newest version landed since the newest one
-- this table holds (minus `session_lookback_hours`; by landing time, as stg_sessions) and is
-- newer than the version held, and replaces those rows; history is not rebuilt.

with sessions as (

    -- facilities of the estate only: others are counted in mart_data_quality_daily
    select * from {{ ref('stg_sessions') }}
    where facility_id in (select facility_id from {{ ref('facilities') }})

),

changed as (

    select sessions.*
    from sessions
    {% if is_incremental() %}
    left join {{ this }} as held on held.session_id = sessions.session_id
    where coalesce(sessions.landed_at, sessions.updated_at)
        >= {{ incremental_cutoff('landed_at', var('session_lookback_hours')) }}
      and (held.session_id is null or sessions.version > held.version)
    {% endif %}

),

facilities as (

    select * from {{ ref('facilities') }}

),

tariffs as (

    select
        c.session_id,
        f.base_fee,
        f.hourly_rate,
        f.max_fee,
        f.grace_minutes,
        f.currency
    from changed as c
    inner join facilities as f on f.facility_id = c.facility_id

),

priced as (

    select
        c.*,
        t.currency,
        -- only a CLOSED session has a known stay, hence an amount due
        case
            when c.status = 'CLOSED' then {{ amount_due(
                'c.duration_s', 't.base_fee', 't.hourly_rate', 't.max_fee', 't.grace_minutes'
            ) }}
        end as amount_due
    from changed as c
    inner join tariffs as t on t.session_id = c.session_id

),

final as (

    select
        ---------- ids
        session_id,
        facility_id,
        plate,
        entry_event_id,
        entry_device_id,
        exit_event_id,
        exit_device_id,

        ---------- state
        status,
        close_reason,

        ---------- times
        entry_ts,
        exit_ts,
        entry_ts_local,
        exit_ts_local,
        cast(entry_ts_local as date) as entry_date_local,
        cast(exit_ts_local as date) as exit_date_local,
        case when status = 'CLOSED' then duration_s end as duration_s,
        case when status = 'CLOSED' then round(duration_s / 60.0, 2) end as dwell_minutes,

        ---------- money
        currency,
        amount_due,
        -- a refund can reach a session without the payment it undoes (the payment matched
        -- another session of a misread plate): net paid never goes below zero
        {{ money('greatest(0, amount_paid)') }} as amount_paid,
        payments,
        case
            when amount_due is not null then {{ money('greatest(0, amount_due - greatest(0, amount_paid))') }}
        end as leakage,
        case when amount_due > 0 then greatest(0, amount_paid) >= amount_due end as is_paid,

        ---------- lineage
        version,
        updated_at,
        landed_at,
        {{ loaded_at() }} as dbt_loaded_at,
        '{{ invocation_id }}' as dbt_invocation_id

    from priced

)

select * from final
