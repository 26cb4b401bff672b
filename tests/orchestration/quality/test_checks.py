"""The quality checks as plain functions: all pass on clean data, each fails on its bad rows."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from orchestration.quality import checks
from orchestration.quality.checks import CheckOutcome
from orchestration.quality.connection import read_only

MARTS = [
    "mart_occupancy_hourly",
    "mart_revenue_daily",
    "fct_parking_sessions",
    "mart_device_health",
    "mart_data_quality_daily",
]
PLATE_TABLES = {
    "stg_events": ["event_id", "facility_id", "ts"],
    "stg_sessions": ["session_id", "facility_id"],
    "stg_anomalies": ["anomaly_id", "facility_id"],
    "fct_parking_sessions": ["session_id", "facility_id"],
}


@pytest.fixture(scope="module")
def clean(quality_warehouse):
    with read_only(str(quality_warehouse)) as con:
        yield con


@pytest.fixture(scope="module")
def bad(bad_warehouse):
    with read_only(str(bad_warehouse.path)) as con:
        yield con


def newest_event(con):
    return con.execute("select max(ts) from stg_events").fetchone()[0]


def assert_passed(outcome: CheckOutcome) -> None:
    assert outcome.passed, (outcome.description, outcome.metadata)
    assert "failing_rows" not in outcome.metadata


def assert_failed(outcome: CheckOutcome, severity: str, *named: str) -> str:
    """The check failed with `severity`; its failing rows name every one of `named`."""
    assert not outcome.passed, outcome.description
    assert outcome.severity == severity
    rows = outcome.metadata["failing_rows"]
    assert rows.startswith("|"), rows
    assert len(rows.splitlines()) <= 2 + 20 + 2
    for name in named:
        assert name in rows, (name, rows)
    return rows


# --- clean data: every check passes -------------------------------------------------------------


@pytest.mark.parametrize("table", MARTS)
def test_marts_have_rows(clean, table):
    outcome = checks.row_count(clean, table)
    assert_passed(outcome)
    assert outcome.metadata["rows"] > 0


@pytest.mark.parametrize(
    "check",
    [
        checks.occupancy_rate_in_range,
        checks.hourly_series_complete,
        checks.no_negative_takings,
        checks.no_negative_session_amounts,
        checks.dead_letter_share,
        checks.duplicate_share,
        partial(checks.vendor_feeds_usable, table="mart_occupancy_hourly"),
        partial(checks.vendor_feeds_usable, table="mart_revenue_daily"),
        checks.session_durations_possible,
    ],
)
def test_clean_data_passes(clean, check):
    outcome = check(clean)
    assert_passed(outcome)
    assert outcome.severity in {"ERROR", "WARN"}
    assert outcome.description


@pytest.mark.parametrize(("table", "ids"), PLATE_TABLES.items())
def test_clean_plates_are_pseudonyms(clean, table, ids):
    outcome = checks.plates_pseudonymised(clean, table, ids, scan_text_columns=True)
    assert_passed(outcome)
    assert outcome.metadata["plate_columns"] == "plate"
    assert outcome.metadata["plates_checked"] > 0


@pytest.mark.parametrize("table", MARTS)
def test_clean_marts_hold_nothing_like_a_plate(clean, table):
    outcome = checks.plates_pseudonymised(clean, table, [], scan_text_columns=True)
    assert_passed(outcome)
    assert outcome.metadata["text_values_scanned"] > 0


def test_fresh_events_pass(clean):
    reference = newest_event(clean) + timedelta(hours=1)
    outcome = checks.events_fresh(clean, reference, max_age=timedelta(hours=6))
    assert_passed(outcome)
    assert outcome.metadata["age_hours"] == pytest.approx(1.0)


# --- bad data: the matching check fails and names the rows --------------------------------------


def test_negative_revenue_fails(bad, bad_warehouse):
    facility, day, method = bad_warehouse.negative_revenue
    outcome = checks.no_negative_takings(bad)
    rows = assert_failed(outcome, "ERROR", facility, day, method, "-12.5")
    assert len(rows.splitlines()) == 3  # header, rule, the one bad row
    assert "revenue" in outcome.metadata["failed_expectations"]
    assert outcome.metadata["min_revenue"] == -12.5
    assert outcome.facilities == (facility,)  # the publish step holds back that facility only


def test_occupancy_rate_and_peak_out_of_range_fail(bad, bad_warehouse):
    outcome = checks.occupancy_rate_in_range(bad)
    rate_subject, rate_hour = bad_warehouse.rate_hour
    peak_subject, peak_hour = bad_warehouse.peak_hour
    rows = assert_failed(outcome, "ERROR", rate_subject, rate_hour, "1.4", peak_subject, peak_hour)
    assert outcome.metadata["failing_values"] == 2
    assert outcome.metadata["max_occupancy_rate"] == 1.4
    # an hour wholly under flagged readings has no rate: nothing to fail, but counted
    assert outcome.metadata["hours_without_rate_all_flagged"] >= 1
    assert outcome.metadata["flagged_seconds_left_out"] >= 3600
    assert bad_warehouse.flagged_hour[1] not in rows


def test_missing_hour_fails(bad, bad_warehouse):
    outcome = checks.hourly_series_complete(bad)
    assert_failed(outcome, "ERROR", *bad_warehouse.missing_hour)
    assert outcome.metadata["missing_hours"] == 1
    assert outcome.metadata["subjects_with_gaps"] == 1


def test_clear_plate_in_sessions_fails_and_is_masked(bad, bad_warehouse):
    outcome = checks.plates_pseudonymised(
        bad, "fct_parking_sessions", ["session_id", "facility_id"], scan_text_columns=True
    )
    rows = assert_failed(outcome, "ERROR", bad_warehouse.clear_plate_session, "AB****")
    assert "AB123C" not in rows
    assert "AB123C" not in outcome.description


def test_unnormalised_clear_plate_in_events_fails(bad, bad_warehouse):
    outcome = checks.plates_pseudonymised(bad, "stg_events", PLATE_TABLES["stg_events"])
    assert_failed(outcome, "ERROR", bad_warehouse.clear_plate_event, "1-******")


def test_clear_plate_in_a_mart_text_column_fails(bad):
    outcome = checks.plates_pseudonymised(bad, "mart_occupancy_hourly", [], scan_text_columns=True)
    rows = assert_failed(outcome, "ERROR", "zone_id", "XY****")
    assert "XY987Z" not in rows


def test_dead_letter_share_above_threshold_warns(bad, bad_warehouse):
    outcome = checks.dead_letter_share(bad)
    assert_failed(outcome, "WARN", *bad_warehouse.dead_letter_day, "0.25")
    assert checks.dead_letter_share(bad, threshold=0.3).passed


def test_a_vendor_losing_a_quarter_of_its_payloads_blocks_its_facilities(bad, bad_warehouse):
    day, vendor = bad_warehouse.dead_letter_day
    facilities = [
        row[0]
        for row in bad.execute(
            "select distinct facility_id from stg_events where source = ? and lake_date = ?",
            [vendor, day],
        ).fetchall()
    ]
    assert facilities
    for table in ("mart_occupancy_hourly", "mart_revenue_daily"):
        outcome = checks.vendor_feeds_usable(bad, table)
        assert_failed(outcome, "ERROR", day, vendor, *facilities)
        assert set(outcome.facilities) == set(facilities)  # the ones it fed that day, no other
        assert checks.vendor_feeds_usable(bad, table, threshold=0.3).passed
        # a small day's few bad rows are shown, not a reason to hold the numbers back
        assert checks.vendor_feeds_usable(bad, table, min_dead_letters=31).passed


def test_an_impossible_session_duration_fails(bad, bad_warehouse):
    outcome = checks.session_durations_possible(bad)
    assert_failed(outcome, "ERROR", bad_warehouse.long_session)
    assert outcome.facilities and len(outcome.facilities) == 1  # held back: that facility only


def test_a_duplicate_flood_warns(bad, bad_warehouse):
    outcome = checks.duplicate_share(bad)
    assert_failed(outcome, "WARN", *bad_warehouse.duplicate_day)
    assert outcome.metadata["max_duplicate_share"] >= 0.49


def test_empty_mart_fails(bad):
    outcome = checks.row_count(bad, "mart_device_health", severity="WARN")
    assert not outcome.passed
    assert outcome.severity == "WARN"
    assert outcome.metadata["rows"] == 0


def test_stale_events_warn(clean):
    reference = newest_event(clean) + timedelta(hours=7)
    outcome = checks.events_fresh(clean, reference, max_age=timedelta(hours=6))
    assert_failed(outcome, "WARN", "7")
    assert outcome.metadata["age_hours"] == pytest.approx(7.0)
    assert "7.0 h old" in outcome.description


def test_freshness_needs_an_aware_reference(clean):
    with pytest.raises(ValueError, match="timezone-aware"):
        checks.events_fresh(clean, newest_event(clean).replace(tzinfo=None))


def test_missing_table_fails_instead_of_crashing(clean):
    outcome = checks.row_count(clean, "mart_that_does_not_exist")
    assert not outcome.passed
    assert "does not exist" in outcome.description
