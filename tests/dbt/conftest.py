"""A small lake built in batch, a real `dbt build` on it, then one more hour and an incremental run.

dbt runs as few times as possible, once per session: a full build, an incremental build
after `append_to_lake` adds an hour (and `add_late_rows` some reports delivered late), and
(for the tests that need them) a full refresh of the same lake, `dbt docs generate` and a
build on an empty lake. The tests then read the warehouse (read-only) and compare it
with computations of their own over the lake's Parquet files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parkflow.batch import append_to_lake, build_lake
from parkflow.estate import sample_estate
from parkflow.estate.tables import write_estate_tables
from parkflow.lake import EVENTS, SESSIONS, read_table, table_dir
from parkflow.simulator import SimulationConfig

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
KEY = b"dbt-tests-plate-key"
#: Monday 2 November 2026, two days, one facility of each kind (gated, on-street, counted).
CONFIG = SimulationConfig(start=datetime(2026, 11, 2, tzinfo=UTC), days=2, facilities=3, seed=11)
APPENDED_HOURS = 1
BAD_PAYMENT_ID = "bad-negative-payment"
DUPLICATED_ROWS = 50
#: How far back in event time the late reports of `add_late_rows` go.
LATE_BY = timedelta(hours=20)
#: The payment delivered late onto a session of the first morning (`add_late_rows`).
LATE_PAYMENT = Decimal("5.00")


@dataclass(frozen=True)
class Warehouse:
    """The lake and the warehouse after both dbt runs, plus a copy made after the first."""

    data_dir: Path
    path: Path  # after the incremental run
    first: Path  # copy after the full build
    first_run_results: dict[str, Any]
    second_run_results: dict[str, Any]

    def query(self, sql: str, *, first: bool = False) -> list[tuple]:
        """Rows of `sql` on the warehouse (read-only)."""
        with duckdb.connect(str(self.first if first else self.path), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(sql).fetchall()

    def dicts(self, sql: str, *, first: bool = False) -> list[dict[str, Any]]:
        """Rows of `sql` as dicts."""
        with duckdb.connect(str(self.first if first else self.path), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def lake(self, table: str) -> list[dict[str, Any]]:
        """Every row of a lake table, as landed."""
        return read_table(self.data_dir, table).to_pylist()


def dbt(
    command: str,
    data_dir: Path,
    work: Path,
    *args: str,
    project: Path = PROJECT,
    check: bool = True,
) -> dict[str, Any]:
    """Run `dbt <command>` ("build", "docs generate") on `project` against `data_dir`;
    returns its run_results.json (`check`: fail the test unless dbt succeeds).

    The sample estate's tables are written first, as the Dagster build does before each run.
    """
    write_estate_tables(sample_estate(), data_dir)
    target = work / "target"
    env = {
        **os.environ,
        "PARKFLOW_DATA_DIR": str(data_dir),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    done = subprocess.run(
        [str(DBT), *command.split(), "--project-dir", project, "--profiles-dir", project, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check:
        assert done.returncode == 0, f"dbt {command} failed:\n{done.stdout[-6000:]}\n{done.stderr}"
    results = target / "run_results.json"
    return json.loads(results.read_text()) if results.exists() else {}


def add_bad_rows(data_dir: Path) -> None:
    """What a messy writer leaves in a lake: a negative payment, and rows landed twice."""
    events = read_table(data_dir, "events").to_pylist()
    payment = next(e for e in events if e["event_type"] == "payment" and e["plate"])
    bad = {
        **payment,
        "event_id": BAD_PAYMENT_ID,
        "transaction_id": "bad-1",
        "amount": Decimal("-12.50"),
        "status": "COMPLETED",
    }
    day = payment["ts"].strftime("%Y-%m-%d")
    folder = table_dir(data_dir, "events") / f"date={day}"
    pq.write_table(pa.Table.from_pylist([bad], schema=EVENTS), folder / "bad-negative.parquet")
    # the same rows landed again (a worker crashed after writing, before acknowledging)
    again = [e for e in events if e["ts"].strftime("%Y-%m-%d") == day][:DUPLICATED_ROWS]
    pq.write_table(pa.Table.from_pylist(again, schema=EVENTS), folder / "landed-twice.parquet")


def add_late_rows(data_dir: Path) -> None:
    """Reports delivered late, in the newest load: a bay sensor and a counting system report
    `LATE_BY` back in event time (the bay the other way round from its report then), so the
    incremental models must redo history, not only the newest hours."""
    events = read_table(data_dir, "events").to_pylist()
    newest = max(e["ingested_at"] for e in events)
    when = max(e["ts"] for e in events) - LATE_BY
    late = []
    for event_type in ("bay_status", "occupancy_count"):
        before = [e for e in events if e["event_type"] == event_type and e["ts"] <= when]
        report = max(before, key=lambda e: e["ts"])
        late.append(
            {
                **report,
                "event_id": f"late-{event_type}",
                "ts": when,
                "ingested_at": newest,
                "bay_occupied": None
                if report["bay_occupied"] is None
                else not report["bay_occupied"],
                "occupied": None if report["occupied"] is None else report["occupied"] + 7,
            }
        )
    folder = table_dir(data_dir, "events") / f"date={when:%Y-%m-%d}"
    pq.write_table(pa.Table.from_pylist(late, schema=EVENTS), folder / "late-reports.parquet")
    # a payment delivered late attaches to a session that ended LATE_BY before the newest
    # data: a new version whose event time (updated_at) is far older than the newest held
    session = _closed_session_ending_near(data_dir, when)
    corrected = {
        **session,
        "version": session["version"] + 1,
        "amount_paid": session["amount_paid"] + LATE_PAYMENT,
        "payments": session["payments"] + 1,
        "landed_at": datetime.now(UTC),
    }
    folder = table_dir(data_dir, "sessions") / f"date={session['entry_ts']:%Y-%m-%d}"
    pq.write_table(pa.Table.from_pylist([corrected], schema=SESSIONS), folder / "late.parquet")


def _closed_session_ending_near(data_dir: Path, when: datetime) -> dict[str, Any]:
    """The newest version of the CLOSED session of at most 2 hours that ended nearest `when`."""
    newest: dict[str, dict[str, Any]] = {}
    for row in read_table(data_dir, "sessions").to_pylist():
        if row["session_id"] not in newest or row["version"] > newest[row["session_id"]]["version"]:
            newest[row["session_id"]] = row
    short = [s for s in newest.values() if s["status"] == "CLOSED" and s["duration_s"] <= 7200]
    return min(short, key=lambda s: abs(s["exit_ts"] - when))


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Warehouse:
    """Build a 2-day lake, dbt build; append an hour, dbt build again (incremental)."""
    work = tmp_path_factory.mktemp("dbt")
    data_dir = work / "data"
    build_lake(data_dir, CONFIG, plate_key=KEY)
    add_bad_rows(data_dir)
    first_results = dbt("build", data_dir, work)
    first = work / "first.duckdb"
    shutil.copy(data_dir / "warehouse.duckdb", first)
    append_to_lake(data_dir, APPENDED_HOURS, plate_key=KEY)
    add_late_rows(data_dir)
    second_results = dbt("build", data_dir, work)
    return Warehouse(data_dir, data_dir / "warehouse.duckdb", first, first_results, second_results)


@pytest.fixture(scope="session")
def refreshed(warehouse: Warehouse, tmp_path_factory) -> Path:
    """`dbt build --full-refresh` of the lake the incremental run read: its warehouse."""
    work = tmp_path_factory.mktemp("refreshed")
    data_dir = work / "data"
    data_dir.mkdir()
    (data_dir / "lake").symlink_to(warehouse.data_dir / "lake")
    dbt("build", data_dir, work, "--full-refresh")
    return data_dir / "warehouse.duckdb"


@pytest.fixture(scope="session")
def docs(warehouse: Warehouse, tmp_path_factory) -> tuple[dict, dict]:
    """`dbt docs generate` on the built warehouse: (manifest, catalog)."""
    work = tmp_path_factory.mktemp("docs")
    dbt("docs generate", warehouse.data_dir, work)
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    catalog = json.loads((work / "target" / "catalog.json").read_text())
    return manifest, catalog
