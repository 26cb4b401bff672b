"""The Live page against a real worker on a real embedded broker, while events stream in.

The dashboards were started pointing at `worker_port`; this module starts the worker there,
streams a simulated morning through Kafka at 700x real time, and watches the number of
vehicles inside change on the open page, with no reload.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest

from parkflow.broker import EmbeddedBroker
from parkflow.registry import PluginRegistry
from parkflow.settings import Settings
from parkflow.simulator import FaultRates, KafkaSink, Pacing, SimulationConfig, run_simulation
from tests.dashboards.conftest import kpi_value, open_page, screenshot
from tests.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

#: 07:00 in Amsterdam on a Monday: the garages fill up.
MORNING = SimulationConfig(
    start=datetime(2026, 11, 16, 6, tzinfo=UTC),
    days=0.08,
    facilities=3,
    seed=21,
    faults=FaultRates.none(),
)
SPEED = 700.0  # 1.9 simulated hours in about 10 s


@pytest.fixture(scope="module")
def live_worker(worker_port, tmp_path_factory):
    """`parkflow worker` on the port the dashboards poll, on a broker of its own."""
    with EmbeddedBroker() as broker:
        worker = WorkerProcess(broker.bootstrap, tmp_path_factory.mktemp("live-worker"))
        worker.port = worker_port
        worker.start()
        yield worker
        worker.stop()


def stream_in_background(bootstrap: str) -> threading.Thread:
    """Send the simulated morning through Kafka, paced, from another thread."""
    sink = KafkaSink(bootstrap, Settings().partitions)
    plugins = PluginRegistry.discover()
    thread = threading.Thread(
        target=lambda: asyncio.run(
            run_simulation(MORNING, sink, plugins, pacing=Pacing(speed=SPEED))
        ),
        daemon=True,
    )
    thread.start()
    return thread


def test_live_page_updates_while_events_stream(page, watch, dashboard, live_worker):
    open_page(page, dashboard, "page=live")
    page.locator(".pf-stream-online").first.wait_for(timeout=15_000)  # the worker answers
    streaming = stream_in_background(live_worker.bootstrap)
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(set(seen)) < 3:
        value = kpi_value(page, "inside")  # '' while the page redraws
        if value and (not seen or value != seen[-1]):
            seen.append(value)
        page.wait_for_timeout(250)
    assert len(set(seen)) >= 3, f"vehicles inside seen: {seen}"  # it moved, twice at least
    assert int(seen[-1].replace(",", "")) > 0
    assert page.locator(".pf-chart-live-occupancy canvas").count() >= 1
    screenshot(page, "live")
    streaming.join(timeout=60)
