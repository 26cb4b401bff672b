"""A real streaming worker process on a real embedded broker, for the integration tests."""

from __future__ import annotations

import pytest

from parkflow.broker import EmbeddedBroker
from tests.worker_process import INGEST_TOKEN, PLATE_KEY, WorkerProcess

__all__ = ["INGEST_TOKEN", "PLATE_KEY", "WorkerProcess"]  # imported from here by older modules


@pytest.fixture(scope="module")
def stream_broker():
    """A broker of the module's own, so topics and consumer groups start empty."""
    with EmbeddedBroker() as broker:
        yield broker


@pytest.fixture(scope="module")
def worker(stream_broker, tmp_path_factory):
    process = WorkerProcess(stream_broker.bootstrap, tmp_path_factory.mktemp("worker")).start()
    yield process
    process.stop()
