"""Bad rows in the lake: the matching checks fail, name the rows, and hold back what is wrong.

A good refresh runs first; then bad rows of every kind are added (a negative payment, a clear
plate, a count reading far above capacity, more occupied bays than a zone has, an impossible
stay, a duplicate flood, a vendor sending half garbage) and a second refresh runs. The
facilities a failure is about keep their last good rows, the others get the new ones, and
`marts/_status.json` tells the dashboards what is held back and why.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.defs.status import record_run
from orchestration.publication import read_status
from parkflow.lake import TABLES, read_table, table_dir

CLEAR_PLATE = "AB123C"


def _rows(data_dir, event_type: str, facility: str | None = None) -> list[dict]:
    rows = read_table(data_dir, "events").sort_by([("ts", "ascending"), ("event_id", "ascending")])
    return [
        r for r in rows.to_pylist()
        if r["event_type"] == event_type and (facility is None or r["facility_id"] == facility)
    ]  # fmt: skip


def _unflagged_count(data_dir) -> dict:
    """A count reading in an hour with no flagged reading."""
    counts = _rows(data_dir, "occupancy_count")
    flagged = {
        (r["facility_id"], r["ts"].replace(minute=0, second=0)) for r in counts if r["flags"]
    }
    return next(
        r for r in counts
        if (r["facility_id"], r["ts"].replace(minute=0, second=0)) not in flagged
        and r["ts"].minute < 59
    )  # fmt: skip


def _write(data_dir, table: str, rows: list[dict], day, name: str) -> None:
    folder = table_dir(data_dir, table) / f"date={day:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=TABLES[table][0]), folder / name)


def inject(data_dir) -> dict[str, str]:
    """Add bad rows to the lake as more Parquet files; what was injected, by kind.

    They are landed now (`ingested_at`, `updated_at`), as the worker would land them, so the
    incremental models pick them up.
    """
    landed = datetime.now(UTC)
    payment = dict(_rows(data_dir, "payment", "FAC-001")[0])
    payment.update(event_id="bad-negative-payment", amount=Decimal("-12.50"))
    payment.update(transaction_id="TX-NEGATIVE", ingested_at=landed)
    entry = dict(_rows(data_dir, "entry", "FAC-001")[0])
    entry.update(event_id="bad-clear-plate", plate=CLEAR_PLATE, ingested_at=landed)
    entry.update(ts=entry["ts"] + timedelta(hours=1))
    count = dict(_unflagged_count(data_dir))
    count.update(
        event_id="bad-over-capacity",
        occupied=1000 * (count["capacity"] or 500),  # above capacity even averaged over the hour
        flags=[],
        ts=count["ts"] + timedelta(seconds=30),
        ingested_at=landed,
    )
    # more occupied bays than the zone has (sensors the estate does not count): a real
    # occupancy above 100 %, from then until the end of the data
    bay = dict(next(r for r in _rows(data_dir, "bay_status", "FAC-002") if r["zone_id"] == "Z-01"))
    overflow = [
        {**bay, "event_id": f"bad-bay-{i}", "bay_id": f"Z-01-X{i:03d}", "device_id": f"BAD-{i:03d}",
         "bay_occupied": True, "ingested_at": landed}
        for i in range(60)
    ]  # fmt: skip
    _write(data_dir, "events", [payment, entry, count], payment["ts"], "bad.parquet")
    _write(data_dir, "events", overflow, bay["ts"], "bad-bays.parquet")

    session = next(
        r for r in read_table(data_dir, "sessions").to_pylist() if r["status"] == "CLOSED"
    )
    session.update(session_id="bad-ten-day-stay", duration_s=10 * 86400, updated_at=landed)
    session.update(exit_ts=session["entry_ts"] + timedelta(days=10))
    _write(data_dir, "sessions", [session], session["entry_ts"], "bad.parquet")

    # a duplicate flood: every event of one vendor-day landed a second time
    events = read_table(data_dir, "events")
    flood_vendor, flood_day = "paymaster", entry["ts"].date()
    again = [
        {**r, "ingested_at": landed} for r in events.to_pylist()
        if r["source"] == flood_vendor and r["ts"].date() == flood_day
    ]  # fmt: skip
    _write(data_dir, "events", again, flood_day, "flood.parquet")

    # a vendor sending half garbage: as many dead letters as events on one day
    garbage_vendor = entry["source"]
    day_events = [
        r for r in events.to_pylist()
        if r["source"] == garbage_vendor and r["ts"].date() == flood_day
    ]  # fmt: skip
    noon = day_events[0]["ts"].replace(hour=12, minute=0, second=0, microsecond=0)
    garbage = [
        {"dead_letter_id": f"bad-garbage-{i}", "source": garbage_vendor,
         "reason": "invalid JSON", "payload_b64": "AAEC", "payload_size": 3,
         "received_at": noon, "topic": f"raw.{garbage_vendor}", "partition": 0,
         "offset": 10_000_000 + i}
        for i in range(len(day_events))
    ]  # fmt: skip
    _write(data_dir, "deadletter", garbage, noon, "garbage.parquet")
    return {
        "negative": "TX-NEGATIVE",
        "plate": CLEAR_PLATE,
        "facility": bay["facility_id"],
        "flagged_reading": count["facility_id"],
        "long_stay": "bad-ten-day-stay",
        "flood": flood_vendor,
        "garbage": garbage_vendor,
        "day": f"{flood_day}",
    }


def refresh(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """One `refresh_marts` run, then the publication-status sensor's work for it."""
    from orchestration.definitions import defs

    job = defs().resolve_job_def("refresh_marts")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    record_run(instance, result.dagster_run)
    return result


@pytest.fixture(scope="module")
def bad_run(week_lake, tmp_path_factory):
    """A good refresh over a copy of the week, then one with the bad rows added."""
    data_dir = tmp_path_factory.mktemp("bad") / "data"
    shutil.copytree(week_lake / "lake", data_dir / "lake")
    os.environ["PARKFLOW_DATA_DIR"] = str(data_dir)
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            good = refresh(instance)
            assert good.success
            before = {p.name: p.read_bytes() for p in (data_dir / "marts").glob("*.parquet")}
            injected = inject(data_dir)
            result = refresh(instance)
    finally:
        os.environ["PARKFLOW_DATA_DIR"] = str(week_lake)
    return result, injected, data_dir, before


def failed_checks(result) -> dict[str, dict]:
    return {
        f"{c.asset_key.to_user_string()}:{c.check_name}": c.metadata
        for c in result.get_asset_check_evaluations()
        if not c.passed
    }


def test_the_matching_checks_fail(bad_run):
    result, *_ = bad_run
    failed = failed_checks(result)
    # a negative payment never reaches a mart (revenue leaves it out as invalid): the staging
    # test on the amount is the check that catches it
    assert any("amount" in name for name in failed), failed.keys()
    assert any("no_clear_plates" in name for name in failed), failed.keys()
    assert any("occupancy_rate_in_range" in name for name in failed), failed.keys()
    assert "fct_parking_sessions:durations_possible" in failed
    assert "mart_occupancy_hourly:vendor_feeds_usable" in failed
    assert "mart_data_quality_daily:duplicate_share" in failed


def test_each_check_names_what_it_caught(bad_run):
    result, injected, _, _ = bad_run
    failed = failed_checks(result)

    def rows(key: str) -> str:
        return str(failed[key]["failing_rows"].value)

    assert injected["long_stay"] in rows("fct_parking_sessions:durations_possible")
    assert injected["garbage"] in rows("mart_occupancy_hourly:vendor_feeds_usable")
    assert injected["day"] in rows("mart_occupancy_hourly:vendor_feeds_usable")
    assert injected["flood"] in rows("mart_data_quality_daily:duplicate_share")


def test_a_reading_far_above_capacity_is_left_out_of_the_rates_not_blocking(bad_run):
    """The count reading of 1000 x capacity is kept, flagged and left out where it holds."""
    result, injected, data_dir, _ = bad_run
    failed = failed_checks(result)
    rows = str(failed["mart_occupancy_hourly:occupancy_rate_in_range"]["failing_rows"].value)
    assert injected["flagged_reading"] not in rows.replace(injected["facility"], "")
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        flagged, top = con.execute(
            "select sum(flagged_seconds), max(occupancy_rate) from mart_occupancy_hourly"
            " where subject_id = ?",
            [injected["flagged_reading"]],
        ).fetchone()
    assert flagged > 0 and top <= 1


def test_a_duplicate_flood_changes_no_number(bad_run):
    """Duplicates are removed by event id: the flooded vendor's events count once."""
    _, injected, data_dir, _ = bad_run
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        landed, distinct, duplicates = con.execute(
            "select sum(rows_landed), sum(events), sum(duplicate_rows)"
            " from mart_data_quality_daily where source = ? and date = ?::date",
            [injected["flood"], injected["day"]],
        ).fetchone()
        staged = con.execute(
            "select count(*) from stg_events where source = ? and ts::date = ?::date",
            [injected["flood"], injected["day"]],
        ).fetchone()[0]
    assert duplicates >= distinct > 0 and landed == distinct + duplicates
    assert staged == distinct


def test_the_failing_rows_are_named(bad_run):
    result, injected, _, _ = bad_run
    failed = failed_checks(result)
    text = " ".join(str(value.value) for metadata in failed.values() for value in metadata.values())
    assert injected["facility"] in text
    assert "AB****" in text and CLEAR_PLATE not in text  # named, but masked


def published_marts(result) -> dict[str, str]:
    """Published mart -> the facilities its publication held back (comma-separated)."""
    return {
        e.asset_key.path[-1]: str(e.materialization.metadata["held_facilities"].value)
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "serving"
    }


def test_a_failure_about_some_facilities_holds_back_only_those(bad_run):
    result, injected, *_ = bad_run
    published = published_marts(result)
    # more bays than the zone has (FAC-002) and a half-garbage vendor's facilities: held
    held = set(published["mart_occupancy_hourly"].split(", "))
    assert injected["facility"] in held
    assert injected["flagged_reading"] not in held  # its bad reading is left out, not held
    assert published["mart_revenue_daily"]  # the garbage vendor's facilities
    assert injected["facility"] in published["mart_occupancy_daily"].split(", ")
    assert published["fct_parking_sessions"]  # the facility of the ten-day stay
    # marts whose own checks pass are published whole
    assert published["mart_device_health"] == ""


def test_held_facilities_keep_their_last_good_rows(bad_run):
    result, _, data_dir, before = bad_run
    published = published_marts(result)
    for mart in ("mart_occupancy_hourly", "mart_revenue_daily", "fct_parking_sessions"):
        held = published[mart].split(", ")
        sql = "select * from read_parquet(?) where list_contains(?, facility_id) order by all"
        con = duckdb.connect()
        new = con.execute(sql, [str(data_dir / "marts" / f"{mart}.parquet"), held]).fetchall()
        old_file = data_dir / f"before-{mart}.parquet"
        old_file.write_bytes(before[f"{mart}.parquet"])
        old = con.execute(sql, [str(old_file), held]).fetchall()
        assert new == old and new, mart


def test_the_status_file_says_which_marts_are_stale_and_why(bad_run):
    result, _, data_dir, _ = bad_run
    status = read_status(data_dir / "marts")
    marts = status["marts"]
    assert status["last_run"]["run_id"] == result.run_id
    assert status["last_run"]["status"] == "FAILURE"
    hourly = marts["mart_occupancy_hourly"]
    assert hourly["current"] is True and hourly["held_facilities"]
    assert any("occupancy_rate_in_range" in reason for reason in hourly["held_by"])
    assert any("vendor_feeds_usable" in reason for reason in hourly["held_by"])
    sessions = marts["fct_parking_sessions"]
    assert sessions["current"] is True and sessions["held_facilities"]
    assert any("durations_possible" in reason for reason in sessions["held_by"])
    assert marts["mart_occupancy_daily"]["held_facilities"]  # the zone's days above 100 %
    assert marts["mart_device_health"]["current"] is True
    checks = {(c["asset"], c["check"]): c for c in status["checks"]}
    assert checks[("mart_data_quality_daily", "duplicate_share")]["passed"] is False
    assert checks[("mart_data_quality_daily", "duplicate_share")]["severity"] == "WARN"
    # a failing check keeps the rows it found, for the dashboards' Data quality page
    rates = checks[("mart_occupancy_hourly", "occupancy_rate_in_range")]
    assert rates["passed"] is False and rates["failing_rows"].startswith("| ")
    assert any(f in rates["failing_rows"] for f in hourly["held_facilities"])
    passed = [c for c in status["checks"] if c["passed"]]
    assert passed and all(c["failing_rows"] == "" for c in passed)
