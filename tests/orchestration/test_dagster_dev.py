"""`parkflow dagster` (`dagster dev -w workspace.yaml`) serves the UI; GraphQL lists every group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from parkflow.broker import free_port
from parkflow.supervision import STOP_GRACE_S
from tests.processes import group_gone, none_left_using

REPO = Path(__file__).resolve().parents[2]
QUERY = "{ assetNodes { groupName assetKey { path } } }"


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_dagster_dev_serves_every_asset_group(tmp_path, week_lake):
    port = free_port()
    env = {**os.environ, "PARKFLOW_DATA_DIR": str(week_lake)}
    parkflow = Path(sys.executable).with_name("parkflow")
    log = (tmp_path / "dagster.log").open("wb")
    process = subprocess.Popen(
        [parkflow, "dagster", "--port", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        groups: set[str] = set()
        while time.monotonic() < deadline and process.poll() is None:
            try:
                nodes = graphql(port, QUERY)["data"]["assetNodes"]
                groups = {node["groupName"] for node in nodes}
                if groups:
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert b"Dagster" in page.read()
        assert {"sources", "lake", "staging", "marts", "serving", "dashboards"} <= groups
        assert (week_lake / "dagster_home" / "dagster.yaml").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:  # a clean stop, or a kill once the grace period is over
            process.wait(timeout=STOP_GRACE_S + 30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
    assert not none_left_using(week_lake, within=10), "dagster dev left processes behind"
    assert group_gone(process.pid, within=5)
