"""`parkflow up` end to end: history through the real pipeline, a sensor-triggered refresh
publishes the marts, the dashboards and the live API answer and agree with the lake, and
Ctrl-C leaves no process behind."""

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
from tests.lake_check import lake_sessions
from tests.processes import group_gone, none_left_using

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


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """`parkflow up --history 0.25` in a data dir of its own, stopped with Ctrl-C after."""
    data_dir = tmp_path_factory.mktemp("up")
    env = {**os.environ, "PARKFLOW_DATA_DIR": str(data_dir), "PARKFLOW_PLATE_KEY": "e" * 32}
    env.pop("PARKFLOW_KAFKA_BOOTSTRAP", None)
    log = (data_dir / "up.log").open("wb")
    process = subprocess.Popen(
        [BIN / "parkflow", "up", "--history", "0.25", "--facilities", "3"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    run_file = data_dir / "run" / "up.json"
    urls = wait_for(lambda: json.loads(run_file.read_text()), timeout=300)
    assert urls, (data_dir / "up.log").read_text()[-3000:]
    yield process, urls, data_dir
    if process.poll() is None:  # a test failed before the Ctrl-C test ran
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
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


def test_ctrl_c_stops_everything(platform):
    process, _, data_dir = platform
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=90) is not None
    assert group_gone(process.pid, within=30), "processes were left behind"
    assert not none_left_using(data_dir, within=10), "processes were left behind"
    assert not (data_dir / "run" / "up.json").exists()
