"""Device health, alerts and data quality against the lake files."""

from datetime import timedelta

import pytest

from tests.dbt import expected
from tests.dbt.conftest import APPENDED_HOURS, CONFIG, DUPLICATED_ROWS

pytestmark = pytest.mark.slow


def test_health_score_and_status_follow_the_device_rules(warehouse):
    events = list(expected.first_landing(warehouse.lake("events"), "event_id").values())
    horizon = max(e["ts"] for e in events)
    computed = expected.health_scores(events, warehouse.lake("alerts"), horizon)
    rows = warehouse.dicts("select device_id, health_score, status from mart_device_health")
    assert {r["device_id"]: (r["health_score"], r["status"]) for r in rows} == computed
    assert len(computed) > 70  # powered devices and every bay sensor
    assert {status for _, status in computed.values()} >= {"OK"}


def test_alerts_are_one_row_each_with_a_duration(warehouse):
    lake = expected.newest_version(warehouse.lake("alerts"), "alert_id")
    rows = warehouse.dicts("select * from mart_alerts")
    assert {r["alert_id"] for r in rows} == lake.keys()
    for row in rows:
        newest = lake[row["alert_id"]]
        assert row["is_open"] == (newest["state"] == "OPEN")
        if not row["is_open"]:
            minutes = (newest["resolved_at"] - newest["opened_at"]).total_seconds() / 60
            assert row["duration_minutes"] == pytest.approx(minutes, abs=0.01)
        assert row["duration_minutes"] >= 0


def test_data_quality_counts_dead_letters_duplicates_and_anomalies(warehouse):
    rows = warehouse.dicts("select * from mart_data_quality_daily")
    dead = {}
    for letter in {d["dead_letter_id"]: d for d in warehouse.lake("deadletter")}.values():
        key = ((letter["feed_time"] or letter["received_at"]).date(), letter["source"])
        dead[key] = dead.get(key, 0) + 1
    assert {(r["date"], r["source"]): r["dead_letters"] for r in rows if r["dead_letters"]} == dead
    landed = warehouse.lake("events")
    assert sum(r["rows_landed"] for r in rows) == len(landed)
    assert sum(r["duplicate_rows"] for r in rows) == len(landed) - len(
        {e["event_id"] for e in landed}
    )
    assert sum(r["duplicate_rows"] for r in rows) >= DUPLICATED_ROWS
    anomalies = {a["anomaly_id"] for a in warehouse.lake("anomalies")}
    assert sum(r["anomalies"] for r in rows) == len(anomalies)
    days = {r["date"] for r in rows}
    assert min(days) == CONFIG.start.date()
    assert max(days) == (CONFIG.end + timedelta(hours=APPENDED_HOURS)).date()


def test_targets_compare_actuals_with_the_seed(warehouse):
    rows = warehouse.dicts("select * from mart_target_efficiency")
    assert {r["metric"] for r in rows} == {"revenue", "occupancy_rate", "sessions"}
    for row in rows:
        assert row["efficiency_pct"] == pytest.approx(
            min(100.0, row["actual"] / row["target"] * 100), abs=0.006
        )
    revenue = {
        (r["facility_id"], r["local_date"]): float(r["revenue"])
        for r in warehouse.dicts("select * from mart_revenue_daily where is_total")
    }
    for row in rows:
        if row["metric"] == "revenue":
            assert row["actual"] == pytest.approx(revenue[(row["facility_id"], row["local_date"])])
