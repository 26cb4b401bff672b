"""A simulated week in a lake of its own, and the code location loaded against it."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from parkflow.batch import build_lake
from parkflow.simulator import SimulationConfig

PLATE_KEY = b"orchestration-test-plate-key-0123"
# the week ending this hour, so the freshness check sees fresh data
THIS_HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WEEK = SimulationConfig(start=THIS_HOUR - timedelta(days=7), days=7, facilities=3, seed=11)


@pytest.fixture(scope="session")
def week_lake(tmp_path_factory):
    """A data dir holding a simulated week's lake; PARKFLOW_DATA_DIR points at it."""
    data_dir = tmp_path_factory.mktemp("orchestration")
    build_lake(data_dir, WEEK, plate_key=PLATE_KEY)
    previous = os.environ.get("PARKFLOW_DATA_DIR")
    os.environ["PARKFLOW_DATA_DIR"] = str(data_dir)
    yield data_dir
    if previous is None:
        os.environ.pop("PARKFLOW_DATA_DIR", None)
    else:
        os.environ["PARKFLOW_DATA_DIR"] = previous


@pytest.fixture(scope="session")
def definitions(week_lake):
    """The code location's Definitions, loaded as `dagster dev` loads them."""
    from orchestration.definitions import defs

    return defs()
