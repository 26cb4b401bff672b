"""The streaming worker end to end: simulated vendor traffic through Kafka into the lake."""

import asyncio
import time
from datetime import UTC, datetime

import pytest

from parkflow.lake import read_table
from parkflow.registry import PluginRegistry
from parkflow.settings import Settings
from parkflow.simulator import FaultRates, KafkaSink, SimulationConfig, run_simulation

pytestmark = pytest.mark.integration


def wait_for(condition, timeout: float = 60.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


@pytest.fixture(scope="module")
def simulated(worker):
    """A quarter day at three facilities with 5% corrupted payloads, sent through Kafka."""
    faults = FaultRates.none().model_copy(update={"garbage": 0.05})
    config = SimulationConfig(start=datetime(2026, 11, 16, 6, tzinfo=UTC), days=0.25,
                              facilities=3, seed=12, faults=faults)  # fmt: skip
    sink = KafkaSink(worker.bootstrap, Settings().partitions)
    return asyncio.run(run_simulation(config, sink, PluginRegistry.discover()))


def test_health_reports_the_agents(worker):
    health = worker.get("/health")
    assert health["status"] == "ok"
    assert {"streaming.agents.normalize.normalize", "streaming.agents.sinks.events_sink"} <= set(
        health["agents"]
    )


def test_every_event_and_dead_letter_lands_in_the_lake(worker, simulated):
    expected_events = sum(v.events for v in simulated.vendors.values())
    expected_dead = sum(v.corrupted for v in simulated.vendors.values())

    def landed() -> bool:
        events = read_table(worker.data_dir, "events").num_rows
        return events >= expected_events and (
            read_table(worker.data_dir, "deadletter").num_rows >= expected_dead
        )

    assert wait_for(landed)
    events = read_table(worker.data_dir, "events").to_pylist()
    dead = read_table(worker.data_dir, "deadletter").to_pylist()
    assert len({e["event_id"] for e in events}) == expected_events
    assert len({d["dead_letter_id"] for d in dead}) == expected_dead
    assert all(d["reason"] and d["topic"].startswith("raw.") for d in dead)
    by_vendor = {name: 0 for name in simulated.vendors}
    for event in events:
        by_vendor[event["source"]] += 1
    assert by_vendor == {name: v.events for name, v in simulated.vendors.items()}


def test_plates_are_pseudonymised_before_the_lake(worker, simulated):
    plates = {e["plate"] for e in read_table(worker.data_dir, "events").to_pylist() if e["plate"]}
    assert plates
    assert all(len(p) == 20 and all(c in "0123456789ABCDEF" for c in p) for p in plates)
