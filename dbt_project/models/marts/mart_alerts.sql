-- Every alert, open or resolved, with how long it lasted (open ones: until the data horizon).

with alerts as (

    select * from {{ ref('stg_alerts') }}

),

horizon as (

    select horizon from {{ ref('int_data_horizon') }}

),

facilities as (

    select facility_id, timezone from {{ ref('facilities') }}

),

final as (

    select
        ---------- what
        a.alert_id,
        a.alert_type,
        a.severity,
        a.state,
        a.state = 'OPEN' as is_open,
        a.facility_id,
        a.subject_id,
        case
            when a.alert_type in ('NEAR_CAPACITY', 'FULL') and contains(a.subject_id, '/') then 'zone'
            when a.alert_type in ('NEAR_CAPACITY', 'FULL') then 'facility'
            else 'device'
        end as subject_kind,
        a.value,
        a.detail,

        ---------- when
        a.opened_at,
        a.resolved_at,
        {{ local_time('a.opened_at', 'f.timezone') }} as opened_at_local,
        cast({{ local_time('a.opened_at', 'f.timezone') }} as date) as opened_date_local,
        round(
            date_diff('second', a.opened_at, coalesce(a.resolved_at, greatest(h.horizon, a.opened_at)))
            / 60.0,
            2
        ) as duration_minutes

    from alerts as a
    cross join horizon as h
    -- facilities of the estate only (others are counted in mart_data_quality_daily)
    inner join facilities as f on f.facility_id = a.facility_id

)

select * from final
