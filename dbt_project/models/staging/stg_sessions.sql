{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

-- One row per parking session: its newest version (the matcher emits a new row per change).
-- Incremental: a run reads the versions landed since the newest `landed_at` held, minus
-- `session_lookback_hours`, and replaces the sessions whose version is newer than the one
-- held. Landing time, not a version's `updated_at` (event time): a stay the matcher abandons
-- at its max stay is dated entry + max stay, days before the newest change already held,
-- and would never be read. Rows landed before `landed_at` existed count by `updated_at`.

with source as (

    select * from {{ lake_source('sessions') }}
    {% if is_incremental() %}
    where coalesce(landed_at, updated_at)
        >= {{ incremental_cutoff('landed_at', var('session_lookback_hours')) }}
    {% endif %}

),

newest as (

    select * from source
    qualify row_number() over (
        partition by session_id order by version desc, updated_at desc
    ) = 1

),

latest as (

    select newest.* from newest
    {% if is_incremental() %}
    left join {{ this }} as held on held.session_id = newest.session_id
    where held.session_id is null or newest.version > held.version
    {% endif %}

),

facilities as (

    select facility_id, timezone from {{ ref('facilities') }}

),

renamed as (

    select
        ---------- ids
        s.session_id,
        s.facility_id,
        s.plate,
        s.entry_event_id,
        s.entry_device_id,
        s.exit_event_id,
        s.exit_device_id,

        ---------- state
        s.status,
        s.close_reason,
        s.version,

        ---------- times
        s.entry_ts,
        s.exit_ts,
        {{ local_time('s.entry_ts', 'f.timezone') }} as entry_ts_local,
        {{ local_time('s.exit_ts', 'f.timezone') }} as exit_ts_local,
        f.timezone as facility_timezone,
        s.duration_s,
        s.updated_at,
        s.landed_at,

        ---------- money
        s.amount_paid,
        s.payments,

        ---------- lineage
        {{ loaded_at() }} as dbt_loaded_at

    from latest as s
    left join facilities as f on f.facility_id = s.facility_id

)

select * from renamed
