"""One real worker on a real embedded broker for the attack-surface tests of this package.

It runs with the tests' known secrets (`tests.worker_process`) and small, explicit body
limits, so the limits the tests find enforced are the configured ones.
"""

from __future__ import annotations

import pytest

from parkflow.broker import EmbeddedBroker
from tests.worker_process import WorkerProcess

#: The body limits the worker is configured with (`PARKFLOW_*` environment variables).
MAX_PAYLOAD_BYTES = 65_536
MAX_BODY_BYTES = 262_144
LIMITS = {
    "PARKFLOW_MAX_PAYLOAD_BYTES": str(MAX_PAYLOAD_BYTES),
    "PARKFLOW_INGEST_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
}


@pytest.fixture(scope="package")
def exposed_broker():
    """An embedded broker for this package only."""
    with EmbeddedBroker() as broker:
        yield broker


@pytest.fixture(scope="package")
def exposed_worker(exposed_broker, tmp_path_factory):
    """`parkflow worker` with the tests' ingest token and plate key and small body limits."""
    data_dir = tmp_path_factory.mktemp("exposed-worker")
    process = WorkerProcess(exposed_broker.bootstrap, data_dir, env=LIMITS).start()
    yield process
    process.stop()


@pytest.fixture(scope="package")
def published(exposed_worker, tmp_path_factory):
    """Simulated traffic through the worker, dbt on its lake, and every mart published."""
    from tests.reliability.attack_surface.pipeline import publish

    return publish(exposed_worker, tmp_path_factory.mktemp("dbt"))
