"""`parkflow up` end to end, started as `make demo` starts it (simulated history, then live
traffic) with a short history: a sensor-triggered refresh publishes the marts, the live API
agrees with the lake, the platform settles (every page and view shows data in a real browser,
with no held-back banner; Live is caught up and never above 100% without a flagged count;
every run the new-data sensor started succeeded), and Ctrl-C leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from parkflow.lake import read_table
from parkflow.simulator import FaultRates
from tests.e2e.settled import (
    FINISHED,
    caught_up_to_now,
    get_json,
    page_problems,
    sensor_runs,
    worker_behind,
)
from tests.lake_check import lake_sessions
from tests.processes import group_gone, none_left_using, stop_group

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout: float, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(every)
    return None


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """`parkflow up --history 0.5 --simulate` in a data dir of its own, stopped with Ctrl-C
    after."""
    data_dir = tmp_path_factory.mktemp("up")
    env = {**os.environ, "PARKFLOW_DATA_DIR": str(data_dir), "PARKFLOW_PLATE_KEY": "e" * 32}
    env.pop("PARKFLOW_KAFKA_BOOTSTRAP", None)
    log = (data_dir / "up.log").open("wb")
    process = subprocess.Popen(
        [BIN / "parkflow", "up", "--history", "0.5", "--simulate", "--facilities", "3"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    run_file = data_dir / "run" / "up.json"
    urls = wait_for(lambda: json.loads(run_file.read_text()), timeout=300)
    assert urls, (data_dir / "up.log").read_text()[-3000:]
    yield process, urls, data_dir
    stop_group(process, grace=60)  # when a test failed before the Ctrl-C test ran
    log.close()


def test_a_sensor_triggered_refresh_publishes_the_marts(platform):
    _, _, data_dir = platform
    published = wait_for(
        lambda: (data_dir / "marts" / "fct_parking_sessions.parquet").exists(), timeout=420
    )
    assert published, (data_dir / "up.log").read_text()[-3000:]


def test_the_dashboard_and_the_live_api_answer(platform):
    _, urls, _ = platform
    with urllib.request.urlopen(urls["dashboard"] + "/", timeout=20) as page:
        assert page.status == 200
    assert get_json(urls["worker"] + "/health")["status"] == "ok"


def test_live_occupancy_the_lake_and_the_marts_agree(platform):
    _, urls, data_dir = platform
    marts = data_dir / "marts" / "fct_parking_sessions.parquet"
    assert wait_for(marts.exists, timeout=420)

    def inside_per_facility_from_lake() -> dict[str, int]:
        """The OPEN sessions, newest version of each (missed exits and entries corrected)."""
        inside: dict[str, int] = {}
        for session in lake_sessions(data_dir).values():
            if session.status == "OPEN":
                inside[session.facility_id] = inside.get(session.facility_id, 0) + 1
        return inside

    def live_agrees_with_lake() -> bool:
        live = {
            r["facility_id"]: r["occupied"]
            for r in get_json(urls["worker"] + "/live/occupancy")["occupancy"]
            if r["zone_id"] is None and r["facility_id"] == "FAC-001"
        }
        return live == {"FAC-001": inside_per_facility_from_lake().get("FAC-001", 0)}

    assert wait_for(live_agrees_with_lake, timeout=120)
    # the published sessions are the lake's sessions, newest version of each
    landed = {r["session_id"] for r in read_table(data_dir, "sessions").to_pylist()}
    published = duckdb.execute(
        "select count(distinct session_id) from read_parquet($p)", {"p": str(marts)}
    ).fetchone()[0]
    assert 0 < published <= len(landed)


def test_the_platform_settles_with_every_page_showing_data(platform):
    _, urls, data_dir = platform
    assert wait_for(lambda: (data_dir / "marts" / "fct_parking_sessions.parquet").exists(), 420)

    assert wait_for(lambda: caught_up_to_now(urls["worker"]), 300), worker_behind(urls["worker"])
    problems: dict[str, str] = {}

    def every_page_has_data() -> bool:
        problems.clear()
        problems.update(page_problems(urls["dashboard"], urls["worker"]))
        return not problems

    assert wait_for(every_page_has_data, timeout=420, every=5), problems
    finished = [r for r in sensor_runs(urls["dagster"]) if r["status"] in FINISHED]
    assert finished, "the sensor started no run"
    assert {r["status"] for r in finished} == {"SUCCESS"}, finished


def test_the_data_quality_figures_are_the_simulated_fault_rates(platform):
    """Dead letters, duplicates and late deliveries as often as the simulator makes them (the
    default `FaultRates`), and no event counted late or backfilled for being in the history
    the worker read as a backlog."""
    _, _, data_dir = platform
    mart = data_dir / "marts" / "mart_data_quality_daily.parquet"
    assert wait_for(mart.exists, timeout=420)
    events, landed, late, backfilled, duplicates, dead = duckdb.execute(
        """select sum(events), sum(rows_landed), sum(late_events), sum(backfilled_events),
                  sum(duplicate_rows), sum(dead_letters) from read_parquet($p)""",
        {"p": str(mart)},
    ).fetchone()
    faults = FaultRates()
    # a late payload is 1-15 minutes late (uniform), counted late beyond 5 minutes
    late_beyond_5_min = faults.late * (900 - 300) / (900 - 60)
    measured = {
        "dead letters": (dead / (events + dead), faults.garbage),
        "duplicates": (duplicates / landed, faults.duplicate),
        "late": (late / events, late_beyond_5_min),
    }
    for what, (share, configured) in measured.items():
        assert 0.5 * configured <= share <= 1.5 * configured, (what, share, configured)
    assert backfilled == 0


def test_ctrl_c_stops_everything(platform):
    process, _, data_dir = platform
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=90) is not None
    assert group_gone(process.pid, within=30), "processes were left behind"
    assert not none_left_using(data_dir, within=10), "processes were left behind"
    assert not (data_dir / "run" / "up.json").exists()
