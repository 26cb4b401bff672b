"""Occupancy marts against a sweep in Python over the lake's sessions, bays and counts."""

import pytest

from parkflow.simulator.catalog import FACILITIES_BY_ID
from tests.dbt import expected

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lake(warehouse):
    events = list(expected.first_landing(warehouse.lake("events"), "event_id").values())
    sessions = list(expected.newest_version(warehouse.lake("sessions"), "session_id").values())
    horizon = max(e["ts"] for e in events)
    return events, sessions, horizon


def hourly(warehouse, subject_id):
    return {
        row["hour_start_utc"]: row
        for row in warehouse.dicts(
            f"select * from mart_occupancy_hourly where subject_id = '{subject_id}'"
        )
    }


def assert_same(mart, computed):
    assert mart.keys() == computed.keys()
    for hour, (observed, occupied, peak) in computed.items():
        row = mart[hour]
        assert row["observed_seconds"] == pytest.approx(observed), hour
        if observed:
            assert row["avg_occupied"] == pytest.approx(occupied / observed), hour
        else:  # wholly under flagged readings: a gap, not a figure
            assert row["avg_occupied"] is None, hour
        assert row["peak_occupied"] == peak, hour


def test_gated_occupancy_is_the_sweep_of_session_intervals_clipped_to_capacity(warehouse, lake):
    events, sessions, horizon = lake
    horizon = expected.facility_horizon(events, "FAC-001", horizon)
    capacity = FACILITIES_BY_ID["FAC-001"].capacity
    intervals = expected.gated_intervals(sessions, "FAC-001")
    computed = expected.sweep(expected.interval_changes(intervals), horizon, clip=capacity)
    assert len(computed) >= 48
    assert_same(hourly(warehouse, "FAC-001"), computed)
    raw = expected.sweep(expected.interval_changes(intervals), horizon)
    for hour, row in hourly(warehouse, "FAC-001").items():
        assert row["raw_peak_occupied"] == raw[hour][2]


def test_on_street_zone_occupancy_is_the_sweep_of_bay_stays(warehouse, lake):
    events, _, horizon = lake
    horizon = expected.facility_horizon(events, "FAC-002", horizon)
    stays = expected.bay_stays(e for e in events if e["facility_id"] == "FAC-002")
    for zone in ("Z-01", "Z-02"):
        intervals = [stay for (z, _), found in stays.items() if z == zone for stay in found]
        computed = expected.sweep(expected.interval_changes(intervals), horizon)
        assert_same(hourly(warehouse, f"FAC-002/{zone}"), computed)
    everything = [stay for found in stays.values() for stay in found]
    computed = expected.sweep(expected.interval_changes(everything), horizon)
    assert_same(hourly(warehouse, "FAC-002"), computed)


def test_counted_occupancy_is_the_time_weighted_mean_of_the_readings(warehouse, lake):
    events, _, horizon = lake
    horizon = expected.facility_horizon(events, "FAC-003", horizon)
    flags = expected.count_flags(events, "FAC-003", FACILITIES_BY_ID["FAC-003"].capacity)
    assert any(flags.values())  # the feed does send readings above capacity
    computed = expected.sweep(expected.count_changes(events, "FAC-003"), horizon, flagged=flags)
    assert_same(hourly(warehouse, "FAC-003"), computed)


def test_occupancy_never_exceeds_capacity_flagged_readings_left_out(warehouse):
    rows = warehouse.dicts("select * from mart_occupancy_hourly")
    for row in rows:
        if row["occupancy_rate"] is not None:
            assert 0 <= row["occupancy_rate"] <= 1, row
            assert row["peak_occupied"] <= row["capacity"], row
    # the feed does go over: sessions with missed exits, and flagged counting-system readings
    assert any(
        r["raw_peak_occupied"] > r["capacity"] for r in rows if r["facility_kind"] == "gated"
    )


def test_each_bay_is_occupied_between_none_and_all_of_an_hour(warehouse):
    [(bays, worst, best)] = warehouse.query(
        """
        select count(distinct h.subject_id),
               min(h.occupied_seconds / h.observed_seconds),
               max(h.occupied_seconds / h.observed_seconds)
        from int_occupancy_hourly as h
        join int_occupancy_subjects as s using (subject_id)
        where s.subject_kind = 'bay'
        """
    )
    assert bays == 70
    assert worst >= 0
    assert best <= 1


def test_entries_exits_and_overstays(warehouse, lake):
    events, _, horizon = lake
    entries = {}
    for e in events:
        if e["event_type"] == "entry" and e["facility_id"] == "FAC-001":
            hour = expected.floor_hour(e["ts"])
            entries[hour] = entries.get(hour, 0) + 1
    for hour, row in hourly(warehouse, "FAC-001").items():
        assert row["entries"] == entries.get(hour, 0)
    stays = expected.bay_stays(e for e in events if e["facility_id"] == "FAC-002")
    max_stay = {z.zone_id: z.max_stay_minutes * 60 for z in FACILITIES_BY_ID["FAC-002"].zones}
    overstays = {}
    for (zone, _), found in stays.items():
        for start, end in found:
            if ((end or horizon) - start).total_seconds() > max_stay[zone]:
                key = (zone, expected.floor_hour(start))
                overstays[key] = overstays.get(key, 0) + 1
    for zone in ("Z-01", "Z-02"):
        for hour, row in hourly(warehouse, f"FAC-002/{zone}").items():
            assert row["overstays"] == overstays.get((zone, hour), 0)
    counted = hourly(warehouse, "FAC-003")
    assert all(row["entries"] is None for row in counted.values())


def test_daily_turnover_is_sessions_started_over_capacity(warehouse, lake):
    _, sessions, _ = lake
    started = {}
    for s in sessions:
        if s["facility_id"] == "FAC-001":
            day = expected.local_date("FAC-001", s["entry_ts"])
            started[day] = started.get(day, 0) + 1
    rows = warehouse.dicts("select * from mart_occupancy_daily where subject_id = 'FAC-001'")
    assert {r["local_date"]: r["sessions_started"] for r in rows} == {
        r["local_date"]: started.get(r["local_date"], 0) for r in rows
    }
    assert started.keys() <= {r["local_date"] for r in rows}
    for row in rows:
        assert row["turnover"] == pytest.approx(row["sessions_started"] / 400)


def test_hourly_series_have_no_gaps(warehouse):
    [(gaps,)] = warehouse.query(
        """
        select count(*) from (
            select hour_start_utc - lag(hour_start_utc) over (
                partition by subject_id order by hour_start_utc) as step
            from mart_occupancy_hourly
        ) where step <> interval 1 hour
        """
    )
    assert gaps == 0
