"""A small warehouse (2 simulated days, 3 facilities) built once, and a copy with bad rows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from parkflow.batch import build_lake
from parkflow.simulator.config import SimulationConfig

REPO = Path(__file__).resolve().parents[3]
PLATE_KEY = b"quality-test-plate-key-0123456789"
DAYS = SimulationConfig(start=datetime(2026, 3, 2, tzinfo=UTC), days=2, facilities=3, seed=7)


def _dbt_build(data_dir: Path) -> None:
    """`dbt build` into `data_dir/warehouse.duckdb`; dbt's target and logs stay in `data_dir`."""
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "PARKFLOW_DATA_DIR": str(data_dir),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
    project = REPO / "dbt_project"
    done = subprocess.run(
        [str(dbt), "build", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(data_dir / "dbt_target"), "--log-path", str(data_dir / "dbt_logs")],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.fixture(scope="session")
def quality_warehouse(tmp_path_factory) -> Path:
    """The warehouse of a clean 2-day lake (built once per session; open it read-only)."""
    data_dir = tmp_path_factory.mktemp("quality")
    build_lake(data_dir, DAYS, plate_key=PLATE_KEY)
    _dbt_build(data_dir)
    return data_dir / "warehouse.duckdb"


@dataclass(frozen=True)
class BadRows:
    """Where the bad rows were put in the copy of the warehouse."""

    path: Path
    negative_revenue: tuple[str, str, str]  # facility, local date, method
    rate_hour: tuple[str, str]  # subject, UTC hour (occupancy_rate 1.4)
    peak_hour: tuple[str, str]  # subject, UTC hour (peak above capacity)
    flagged_hour: tuple[str, str]  # counted hour wholly under flagged readings: no rate
    missing_hour: tuple[str, str]  # subject, UTC hour deleted
    clear_plate_session: str  # fct_parking_sessions.session_id with plate AB123C
    clear_plate_event: str  # stg_events.event_id with plate 1-ABC-23
    clear_plate_zone_hour: tuple[str, str]  # mart_occupancy_hourly row with zone_id XY987Z
    dead_letter_day: tuple[str, str]  # date, source with a 25 % share
    long_session: str  # a CLOSED session lasting 10 days
    duplicate_day: tuple[str, str]  # date, source with half its rows landed twice


def _hour(con: duckdb.DuckDBPyConnection, subject: str, offset: int) -> tuple[str, str]:
    sql = (
        "select strftime(hour_start_utc, '%Y-%m-%d %H:%M:%S') from mart_occupancy_hourly"
        " where subject_id = ? order by hour_start_utc limit 1 offset ?"
    )
    return subject, con.execute(sql, [subject, offset]).fetchone()[0]


@pytest.fixture(scope="session")
def bad_warehouse(quality_warehouse, tmp_path_factory) -> BadRows:
    """A copy of the clean warehouse with one bad row per check, injected with SQL."""
    path = tmp_path_factory.mktemp("quality_bad") / "warehouse.duckdb"
    shutil.copy(quality_warehouse, path)
    wal = quality_warehouse.with_name(quality_warehouse.name + ".wal")
    if wal.exists():
        shutil.copy(wal, path.with_name(path.name + ".wal"))
    con = duckdb.connect(str(path))
    try:
        con.execute("set TimeZone = 'UTC'")
        revenue = con.execute(
            "select facility_id, strftime(local_date, '%Y-%m-%d'), payment_method"
            " from mart_revenue_daily where not is_total order by all limit 1"
        ).fetchone()
        con.execute(
            "update mart_revenue_daily set revenue = -12.5, gross_revenue = -12.5"
            " where facility_id = ?"
            " and local_date = ?::date and payment_method = ?",
            list(revenue),
        )
        hour_sql = "where subject_id = ? and hour_start_utc = ?::timestamptz"
        rate_hour = _hour(con, "FAC-001", 5)
        con.execute(f"update mart_occupancy_hourly set occupancy_rate = 1.4 {hour_sql}", rate_hour)
        peak_hour = _hour(con, "FAC-002/Z-01", 3)
        con.execute(
            f"update mart_occupancy_hourly set peak_occupied = capacity + 5 {hour_sql}", peak_hour
        )
        flagged_hour = _hour(con, "FAC-003", 30)
        con.execute(
            "update mart_occupancy_hourly set occupancy_rate = null, avg_occupied = null,"
            " peak_occupied = null, raw_peak_occupied = capacity + 9, observed_seconds = 0,"
            f" flagged_seconds = 3600, flagged_readings = 2 {hour_sql}",
            flagged_hour,
        )
        missing_hour = _hour(con, "FAC-003", 10)
        con.execute(f"delete from mart_occupancy_hourly {hour_sql}", missing_hour)
        zone_hour = _hour(con, "FAC-003", 20)
        con.execute(f"update mart_occupancy_hourly set zone_id = 'XY987Z' {hour_sql}", zone_hour)
        session = con.execute(
            "select session_id from fct_parking_sessions order by session_id limit 1"
        ).fetchone()[0]
        con.execute(
            "update fct_parking_sessions set plate = 'AB123C' where session_id = ?", [session]
        )
        event = con.execute(
            "select event_id from stg_events where event_type = 'entry' order by event_id limit 1"
        ).fetchone()[0]
        con.execute("update stg_events set plate = '1-ABC-23' where event_id = ?", [event])
        day = ("2026-03-02", "camguard")
        con.execute(
            "update mart_data_quality_daily set dead_letter_share = 0.25, dead_letters = 30"
            " where date = ?::date and source = ?",
            list(day),
        )
        long_session = con.execute(
            "select session_id from fct_parking_sessions where status = 'CLOSED'"
            " order by session_id desc limit 1"
        ).fetchone()[0]
        con.execute(
            "update fct_parking_sessions set duration_s = 864000 where session_id = ?",
            [long_session],
        )
        flood = ("2026-03-03", "paymaster")
        con.execute(
            "update mart_data_quality_daily set duplicate_rows = rows_landed // 2"
            " where date = ?::date and source = ?",
            list(flood),
        )
        con.execute("delete from mart_device_health")
    finally:
        con.close()
    return BadRows(
        path=path,
        negative_revenue=tuple(revenue),
        rate_hour=rate_hour,
        peak_hour=peak_hour,
        flagged_hour=flagged_hour,
        missing_hour=missing_hour,
        clear_plate_session=session,
        clear_plate_event=event,
        clear_plate_zone_hour=zone_hour,
        dead_letter_day=day,
        long_session=long_session,
        duplicate_day=flood,
    )
