"""mart_occupancy_forecast: a week of hours from the local midnight of the last day of data."""

from datetime import timedelta

import pytest

from parkflow.simulator.catalog import FACILITIES_BY_ID

pytestmark = pytest.mark.slow


def test_every_subject_gets_168_hours_from_local_midnight(warehouse):
    rows = warehouse.dicts("select * from mart_occupancy_forecast")
    [(horizon,)] = warehouse.query("select horizon from int_data_horizon")
    subjects = {r["subject_id"] for r in rows}
    assert subjects == {"FAC-001", "FAC-002", "FAC-002/Z-01", "FAC-002/Z-02", "FAC-003"}
    for subject in subjects:
        hours = sorted(r["hour_start_local"] for r in rows if r["subject_id"] == subject)
        assert len(hours) == 168
        facility = FACILITIES_BY_ID[subject.split("/")[0]]
        midnight = horizon.astimezone(facility.tz).replace(tzinfo=None)
        midnight = midnight.replace(hour=0, minute=0, second=0, microsecond=0)
        assert hours[0] == midnight
        assert hours[-1] == midnight + timedelta(hours=167)


def test_forecast_is_the_same_hour_a_week_earlier_where_history_exists(warehouse):
    """Two days of history: only the window's last days have a week-earlier hour to use."""
    rows = warehouse.dicts("select * from mart_occupancy_forecast")
    history = {
        (r["subject_id"], r["hour_start_local"]): r["avg_occupied"]
        for r in warehouse.dicts("select * from mart_occupancy_hourly")
    }
    used = 0
    for row in rows:
        earlier = [
            history[(row["subject_id"], row["hour_start_local"] - timedelta(days=7 * weeks))]
            for weeks in (1, 2, 3, 4)
            if (row["subject_id"], row["hour_start_local"] - timedelta(days=7 * weeks)) in history
        ]
        assert row["weeks_used"] == len(earlier)
        if earlier:
            used += 1
            assert row["expected_avg_occupied"] == pytest.approx(sum(earlier) / len(earlier))
        else:
            assert row["expected_avg_occupied"] is None
    assert 0 < used < len(rows)


def test_actuals_show_beside_the_forecast_for_hours_already_past(warehouse):
    rows = warehouse.dicts("select * from mart_occupancy_forecast")
    with_actuals = [r for r in rows if r["actual_avg_occupied"] is not None]
    assert with_actuals  # the hours of the last day already past
    assert all(r["local_date"] == r["window_start_local"].date() for r in with_actuals)
