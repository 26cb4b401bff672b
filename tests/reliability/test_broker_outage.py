"""The broker paused for 30 s (SIGSTOP, then SIGCONT: it is memory-only, a restart would lose
its topics) while an HTTP client and a Kafka producer keep sending.

- HTTP ingest answers 202 or a JSON 503 with Retry-After within its timeout: never a hang,
  never a 500;
- the simulator's producer sends again what the broker did not acknowledge;
- the worker goes on by itself after SIGCONT (same process, no restart);
- nothing accepted is lost: every payload answered 202, and every payload the producer
  sent, has its events in the lake.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from parkflow.broker import EmbeddedBroker
from parkflow.events import make_event_id
from parkflow.registry import PluginRegistry
from parkflow.simulator import FaultRates, KafkaSink, SimulationConfig
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.run import DeliveryError
from parkflow.simulator.transport import Transport
from parkflow.simulator.world import simulate_world
from tests.lake_check import payload_events
from tests.paced_producer import PacedProducer
from tests.processes import group_gone
from tests.reliability.crash_drill import LakeIds
from tests.waiting import wait_for
from tests.worker_process import INGEST_TOKEN, WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REGISTRY = PluginRegistry.discover()
OUTAGE_S = 30
INGEST_TIMEOUT_S = 3  # the worker's PARKFLOW_INGEST_TIMEOUT_S
CLIENT_TIMEOUT_S = 30  # an HTTP answer slower than this is a hang
PRODUCER_TIMEOUT_S = 5  # the producer's request timeout: shorter than the outage, so it retries
CAMERA = "FAC-001-CAM-IN-1"


@dataclass
class Attempt:
    """One POST of the HTTP client."""

    read_id: str
    started: float
    seconds: float
    status: int | None  # None: no answer (timeout or connection error)
    body: dict | str
    retry_after: str | None


class IngestClient(threading.Thread):
    """Posts a new camera read every 0.1 s to POST /ingest/camguard until stopped."""

    def __init__(self, worker: WorkerProcess) -> None:
        super().__init__(name="ingest-client", daemon=True)
        self.worker = worker
        self.attempts: list[Attempt] = []
        self._stopping = threading.Event()

    def run(self) -> None:
        """Post until `stop()`."""
        while not self._stopping.is_set():
            self.attempts.append(self._post(f"outage-{len(self.attempts)}"))
            self._stopping.wait(0.1)

    def _post(self, read_id: str) -> Attempt:
        captured = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps(
            {
                "camera": {"id": CAMERA, "site": "FAC-001", "gate": "G-IN-1", "lane": 1},
                "read": {
                    "id": read_id,
                    "direction": "in",
                    "captured_at": captured,
                    "plate": {"text": f"OUT-{len(self.attempts)}-X", "confidence": 90},
                },
            }
        ).encode()
        call = urllib.request.Request(
            f"{self.worker.url}/ingest/camguard",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"},
        )
        started = time.monotonic()
        status, raw, retry_after = None, b"", None
        try:
            with urllib.request.urlopen(call, timeout=CLIENT_TIMEOUT_S) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw, retry_after = error.code, error.read(), error.headers.get("Retry-After")
        except OSError as error:
            raw = repr(error).encode()
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = raw.decode(errors="replace")
        seconds = time.monotonic() - started
        return Attempt(read_id, started, seconds, status, answer, retry_after)

    def accepted(self) -> list[Attempt]:
        """The attempts answered 202 so far."""
        return [a for a in list(self.attempts) if a.status == 202]

    def stop(self) -> None:
        """Stop after the request in progress."""
        self._stopping.set()
        self.join(CLIENT_TIMEOUT_S + 5)


@contextlib.contextmanager
def paused(process: subprocess.Popen):
    """SIGSTOP a process for the duration of the block; SIGCONT it whatever happens."""
    os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


@pytest.fixture
def outage_broker():
    """A broker of the test's own, as a separate process (so it can be paused), always
    resumed and stopped, its process group gone."""
    broker = EmbeddedBroker().start()
    try:
        yield broker
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)  # in case the test failed while paused
        broker.stop()
        assert group_gone(broker.process.pid, within=10)


@pytest.fixture
def outage_worker(outage_broker, tmp_path):
    worker = WorkerProcess(
        outage_broker.bootstrap, tmp_path, env={"PARKFLOW_INGEST_TIMEOUT_S": str(INGEST_TIMEOUT_S)}
    ).start()
    try:
        yield worker
    finally:
        worker.stop()
        assert group_gone(worker.process.pid, within=10)


def simulated_payloads() -> list:
    """Half a day at three facilities in delivery order (more than the test sends)."""
    config = SimulationConfig(
        start=datetime(2026, 11, 18, 6, tzinfo=UTC),
        days=0.5,
        facilities=3,
        seed=5,
        faults=FaultRates.none().model_copy(update={"garbage": 0.01, "duplicate": 0.01}),
    )
    world = simulate_world(config, first_facilities(3), Counter())
    return list(Transport(REGISTRY, config.faults, config.seed).deliver(world))


@pytest.mark.timeout(400)
def test_a_paused_broker_loses_nothing_accepted_and_the_worker_resumes(
    outage_broker, outage_worker
):
    worker = outage_worker
    stream = simulated_payloads()
    sink = KafkaSink(
        outage_broker.bootstrap, 4, retry_for_s=300, request_timeout_s=PRODUCER_TIMEOUT_S
    )
    producer = PacedProducer(sink, stream, rate=100, registry=REGISTRY)
    client = IngestClient(worker)
    lake = LakeIds(worker.data_dir, "events", "event_id")
    producer.start()
    client.start()
    try:
        assert wait_for(lambda: client.accepted() and lake.refresh(), timeout=60)
        with paused(outage_broker.process):
            paused_at = time.monotonic()
            time.sleep(OUTAGE_S)  # the outage itself, not a wait for a condition
        resumed_at = time.monotonic()
        sent_at_resume = producer.sent
        assert wait_for(
            lambda: (
                any(a.started > resumed_at for a in client.accepted())
                and producer.sent > sent_at_resume + 500
            ),
            timeout=120,
        ), "neither HTTP ingest nor the producer got going again after SIGCONT"
    finally:
        client.stop()
        producer.stop(timeout=PRODUCER_TIMEOUT_S + 300)
    assert producer.error is None, repr(producer.error)
    assert not producer.is_alive()
    assert sink.retries > 0  # deliveries failed while the broker was paused and were re-sent

    answers = Counter(a.status for a in client.attempts)
    assert set(answers) <= {202, 503}, answers  # no 500, no unanswered request
    # sent while the broker was paused, and too early for it to be back within the timeout
    during = [
        a for a in client.attempts if paused_at <= a.started < resumed_at - INGEST_TIMEOUT_S - 1
    ]
    refused = [a for a in client.attempts if a.status == 503]
    assert refused and {a.status for a in during} == {503}
    assert all("retry" in a.body["error"] and a.retry_after for a in refused)
    assert all(a.seconds < CLIENT_TIMEOUT_S for a in client.attempts)

    assert worker.process.poll() is None  # the same worker, never restarted
    wanted = {make_event_id("camguard", a.read_id) for a in client.accepted()}
    wanted |= {i for ids in payload_events(stream[: producer.sent], REGISTRY) for i in ids}
    assert wait_for(lambda: wanted <= lake.refresh(), timeout=180), (
        f"{len(wanted - lake.refresh())} of {len(wanted)} accepted events never reached the lake"
    )


@pytest.mark.timeout(120)
def test_the_producer_stops_with_an_error_when_the_broker_stays_away(outage_broker):
    """Nothing is skipped silently: past its retry window the sink raises `DeliveryError`."""
    sink = KafkaSink(outage_broker.bootstrap, 4, retry_for_s=3, request_timeout_s=1)
    payload = simulated_payloads()[0]

    async def send_while_paused() -> None:
        await sink.open([REGISTRY.get(name) for name in REGISTRY.names()])
        with paused(outage_broker.process):
            await sink.send(payload)
            await sink.close()

    with pytest.raises(DeliveryError, match="did not acknowledge"):
        asyncio.run(send_while_paused())
    assert sink.retries > 0
