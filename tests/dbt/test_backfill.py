"""Backfills and late deliveries in mart_data_quality_daily: dead letters count on the days of
the events around them, and history loaded later is backfilled, not late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parkflow.batch import build_lake
from parkflow.estate import sample_estate
from parkflow.importing import import_files
from parkflow.lake import DEADLETTER, read_table, table_dir
from parkflow.registry import PluginRegistry
from parkflow.simulator import SimulationConfig
from tests.dbt.conftest import dbt

pytestmark = pytest.mark.slow

KEY = b"dbt-tests-plate-key-backfill-0123"
CONFIG = SimulationConfig(start=datetime(2026, 11, 2, tzinfo=UTC), days=0.25, facilities=3, seed=5)
#: The feed: a gate controller's telemetry (voltwatch line protocol), every 5 minutes.
DEVICE = "FAC-001-GC-IN-1"
VENDOR = "voltwatch"
READINGS = 60
BAD_LINES = [b"\xff\xfe not a reading", b"power,site=FAC-001 voltage=oops", b"garbage"]
#: A dead letter landed before `feed_time` existed: a file without the column.
OLD_LETTER_AT = datetime(2026, 11, 2, 3, tzinfo=UTC)


@dataclass(frozen=True)
class Backfilled:
    """The warehouse, and when the history and the recent readings were."""

    con: duckdb.DuckDBPyConnection
    data_dir: Path
    old_day: date  # UTC day of the history imported
    late_at: datetime  # a reading 30 minutes before the import
    on_time_at: datetime  # a reading 2 minutes before it
    imported_at: datetime


def reading(at: datetime) -> bytes:
    """A voltwatch reading of `DEVICE` at `at`."""
    nanoseconds = int(at.timestamp()) * 1_000_000_000
    return (
        f"power,site=FAC-001,device={DEVICE},kind=gate_controller "
        f"voltage=229.8,current=1.42,power=326.3,temp=21.5 {nanoseconds}"
    ).encode()


def old_schema_dead_letter(data_dir: Path) -> None:
    """A camguard dead letter in a file written before the `feed_time` column, named so that it
    is the first deadletter file read."""
    schema = pa.schema([f for f in DEADLETTER if f.name != "feed_time"])
    row = {
        "dead_letter_id": "old-schema-letter",
        "source": "camguard",
        "reason": "not JSON",
        "payload_b64": "e30=",
        "payload_size": 2,
        "received_at": OLD_LETTER_AT,
    }
    folder = table_dir(data_dir, "deadletter") / f"date={OLD_LETTER_AT:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([row], schema=schema), folder / "0-old-schema.parquet")


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory) -> Backfilled:
    """A small simulated lake; then `parkflow import` of a device feed's history of 10 days
    ago with three bad lines, and of two recent readings (2 and 30 minutes old)."""
    work = tmp_path_factory.mktemp("backfill")
    data_dir = work / "data"
    build_lake(data_dir, CONFIG, plate_key=KEY)
    old_schema_dead_letter(data_dir)
    now = datetime.now(UTC).replace(microsecond=0)
    start = datetime.combine(now.date() - timedelta(days=10), time(8), UTC)
    lines = [reading(start + timedelta(minutes=5 * i)) for i in range(READINGS)]
    history = work / "history.lp"  # a bad line opens it, one halfway, one at the end
    opening, halfway, end = BAD_LINES
    history.write_bytes(b"\n".join([opening, *lines[:30], halfway, *lines[30:], end]) + b"\n")
    recent = work / "recent.lp"
    late_at, on_time_at = now - timedelta(minutes=30), now - timedelta(minutes=2)
    recent.write_bytes(reading(late_at) + b"\n" + reading(on_time_at) + b"\n")
    files = [(VENDOR, history), (VENDOR, recent)]
    report = import_files(
        files, PluginRegistry.discover(), data_dir, sample_estate(), plate_key=KEY
    )
    assert (report.events, sum(report.dead_letters.values())) == (READINGS + 2, len(BAD_LINES))
    dbt("build", data_dir, work)  # fails the test unless every node passes or warns
    imported_at = max(d["received_at"] for d in read_table(data_dir, "deadletter").to_pylist())
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        yield Backfilled(con, data_dir, start.date(), late_at, on_time_at, imported_at)


def quality(backfilled: Backfilled, day: date, source: str = VENDOR) -> dict:
    """The mart's row of `source` on `day`."""
    cursor = backfilled.con.execute(
        "select * from mart_data_quality_daily where date = ? and source = ?", [day, source]
    )
    names = [d[0] for d in cursor.description]
    [row] = cursor.fetchall()
    return dict(zip(names, row, strict=True))


def test_a_backfill_s_dead_letters_count_on_the_days_of_its_events(backfilled):
    old = quality(backfilled, backfilled.old_day)
    assert (old["events"], old["dead_letters"]) == (READINGS, len(BAD_LINES))
    assert old["dead_letter_share"] == pytest.approx(3 / 63)
    loaded_on = backfilled.imported_at.date()
    [(dead_letters_today,)] = backfilled.con.execute(
        "select coalesce(sum(dead_letters), 0) from mart_data_quality_daily where date = ?",
        [loaded_on],
    ).fetchall()
    assert dead_letters_today == 0  # the day of the import is no day of dead letters
    [(worst,)] = backfilled.con.execute(
        "select max(dead_letter_share) from mart_data_quality_daily where date >= ?",
        [backfilled.old_day],
    ).fetchall()
    assert worst < 0.1


def test_a_backfill_is_backfilled_not_late(backfilled):
    old = quality(backfilled, backfilled.old_day)
    assert (old["backfilled_events"], old["late_events"]) == (READINGS, 0)
    assert old["backfilled_dead_letters"] == len(BAD_LINES)


def test_an_event_half_an_hour_late_is_late(backfilled):
    late_day, on_time_day = backfilled.late_at.date(), backfilled.on_time_at.date()
    late = quality(backfilled, late_day)
    expected_events = 2 if late_day == on_time_day else 1
    assert (late["events"], late["late_events"], late["backfilled_events"]) == (
        expected_events,
        1,
        0,
    )


def test_the_simulated_days_count_their_deliveries_by_the_same_rules(backfilled):
    """Against the lake files: each event's first landing (as staging keeps it) is late when
    received 5 minutes to 24 hours after its event time, backfilled when later."""
    first: dict[str, dict] = {}
    for e in read_table(backfilled.data_dir, "events").to_pylist():
        order = (e["ingested_at"], e["ts"], e["source"])
        if e["event_id"] not in first or order < first[e["event_id"]]["order"]:
            first[e["event_id"]] = {**e, "order": order}
    expected: dict[tuple[date, str], list[int]] = {}
    for e in first.values():
        delay = e["ingested_at"] - e["ts"]
        counts = expected.setdefault((e["ts"].date(), e["source"]), [0, 0])
        counts[0] += timedelta(minutes=5) < delay <= timedelta(hours=24)
        counts[1] += delay > timedelta(hours=24)
    rows = backfilled.con.execute(
        "select date, source, late_events, backfilled_events from mart_data_quality_daily"
    ).fetchall()
    assert {(d, s): [late, back] for d, s, late, back in rows} == expected
    simulated = [late for day, _, late, _ in rows if day < backfilled.old_day]
    assert sum(simulated) > 0  # the simulator delivers some payloads 1-15 min late


def test_a_dead_letter_from_before_feed_time_counts_on_its_receipt(backfilled):
    """Against the lake files: each dead letter on the day of its feed_time, else its receipt;
    the old file's letter (no feed_time column) on the day it was received."""
    landed = read_table(backfilled.data_dir, "deadletter").to_pylist()
    letters = {d["dead_letter_id"]: d for d in sorted(landed, key=lambda d: d["received_at"])[::-1]}
    expected: dict[tuple[date, str], int] = {}
    for d in letters.values():
        key = ((d["feed_time"] or d["received_at"]).date(), d["source"])
        expected[key] = expected.get(key, 0) + 1
    rows = backfilled.con.execute(
        "select date, source, dead_letters from mart_data_quality_daily where dead_letters > 0"
    ).fetchall()
    assert {(d, s): n for d, s, n in rows} == expected
    assert letters["old-schema-letter"]["feed_time"] is None
    assert (OLD_LETTER_AT.date(), "camguard") in expected
