"""A worker killed with SIGKILL mid-stream loses no session and counts none twice."""

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from parkflow.events import event_from_dict
from parkflow.lake import read_table
from parkflow.records import SessionRecord, SessionStatus
from parkflow.registry import PluginRegistry
from parkflow.simulator import FaultRates, KafkaSink, SimulationConfig
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Transport
from parkflow.simulator.world import simulate_world
from streaming.rules.sessions import latest_versions, match_stream
from tests.integration.conftest import WorkerProcess
from tests.integration.test_worker import _event_dicts, session_outcomes, wait_for

pytestmark = pytest.mark.integration
REGISTRY = PluginRegistry.discover()


def payloads():
    """Half a day at the gated garage, in delivery order."""
    config = SimulationConfig(
        start=datetime(2026, 11, 17, 6, tzinfo=UTC),
        days=0.5,
        facilities=1,
        seed=31,
        faults=FaultRates.none(),
    )
    world = simulate_world(config, first_facilities(1), Counter())
    return list(Transport(REGISTRY, config.faults, config.seed).deliver(world))


async def send(bootstrap: str, batch) -> None:
    sink = KafkaSink(bootstrap, 4)
    await sink.open([REGISTRY.get(name) for name in REGISTRY.names()])
    try:
        for payload in batch:
            await sink.send(payload)
    finally:
        await sink.close()


def lake_sessions(data_dir) -> dict:
    rows = [SessionRecord.model_validate(r) for r in read_table(data_dir, "sessions").to_pylist()]
    return latest_versions(rows)


def test_sigkill_mid_stream_then_restart(stream_broker, tmp_path):
    stream = payloads()
    split = len(stream) * 6 // 10
    worker = WorkerProcess(stream_broker.bootstrap, tmp_path).start()
    asyncio.run(send(stream_broker.bootstrap, stream[:split]))
    assert wait_for(lambda: read_table(tmp_path, "sessions").num_rows > 50, timeout=60)
    time.sleep(0.5)  # kill while batches are in flight
    worker.kill()
    open_at_kill = {i for i, s in lake_sessions(tmp_path).items() if s.status is SessionStatus.OPEN}
    assert open_at_kill

    worker = WorkerProcess(stream_broker.bootstrap, tmp_path).start()
    try:
        asyncio.run(send(stream_broker.bootstrap, stream[split:]))
        expected_events = sum(p.events for p in stream)
        assert wait_for(
            lambda: (
                len({r["event_id"] for r in read_table(tmp_path, "events").to_pylist()})
                >= expected_events
            ),
            timeout=180,
        )
        events = sorted(
            {e.event_id: e for e in map(event_from_dict, _event_dicts(tmp_path))}.values(),
            key=lambda e: (e.ts, e.event_id),
        )
        expected = session_outcomes(latest_versions(match_stream(events).sessions).values())
        settled = wait_for(
            lambda: session_outcomes(lake_sessions(tmp_path).values()) == expected, timeout=120
        )
        got = session_outcomes(lake_sessions(tmp_path).values())
        wrong = {
            k: (expected.get(k), got.get(k))
            for k in expected.keys() | got.keys()
            if expected.get(k) != got.get(k)
        }
        assert settled, (
            f"{len(wrong)} sessions differ from the replay, e.g. {list(wrong.items())[:3]}"
        )
        after = lake_sessions(tmp_path)
        closed_after_restart = [i for i in open_at_kill if after[i].status is SessionStatus.CLOSED]
        assert closed_after_restart  # sessions open at the kill found their exits afterwards
    finally:
        worker.stop()
