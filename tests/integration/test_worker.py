"""The streaming worker end to end: simulated vendor traffic through Kafka into the lake."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from parkflow.events import event_from_dict
from parkflow.lake import read_table
from parkflow.records import SessionRecord
from parkflow.registry import PluginRegistry
from parkflow.settings import Settings
from parkflow.simulator import FaultRates, KafkaSink, SimulationConfig, run_simulation
from streaming.rules.sessions import latest_versions, match_stream

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
    """A quarter day at three facilities, sent through Kafka: 5% of payloads corrupted,
    misreads and missed exits at field rates (no late delivery: arrival order = time order)."""
    faults = FaultRates.none().model_copy(
        update={"garbage": 0.05, "misread": 0.03, "missing_exit": 0.05}
    )
    config = SimulationConfig(
        start=datetime(2026, 11, 16, 5, tzinfo=UTC), days=0.3, facilities=3, seed=12, faults=faults
    )
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


def session_outcomes(sessions) -> dict:
    return {
        s.session_id: (s.status, s.exit_event_id, s.amount_paid, s.duration_s) for s in sessions
    }


def test_sessions_in_the_lake_are_those_of_the_plain_matcher(worker, simulated):
    """The agent is a thin shell: its sessions and anomalies equal a batch replay's."""
    expected_events = sum(v.events for v in simulated.vendors.values())
    assert wait_for(lambda: read_table(worker.data_dir, "events").num_rows >= expected_events)
    events = sorted(
        (event_from_dict(row) for row in _event_dicts(worker)), key=lambda e: (e.ts, e.event_id)
    )
    replay = match_stream(events)
    expected = session_outcomes(latest_versions(replay.sessions).values())
    expected_anomalies = {a.anomaly_id for a in replay.anomalies}
    assert expected and expected_anomalies

    def lake_sessions() -> dict:
        rows = [
            SessionRecord.model_validate(r)
            for r in read_table(worker.data_dir, "sessions").to_pylist()
        ]
        return session_outcomes(latest_versions(rows).values())

    assert wait_for(lambda: lake_sessions() == expected, timeout=60)

    def lake_anomalies() -> dict:
        return {r["anomaly_id"]: r for r in read_table(worker.data_dir, "anomalies").to_pylist()}

    assert wait_for(lambda: expected_anomalies <= set(lake_anomalies()))
    # beyond the replay's: only exits of the last minutes, expired once the stream went idle
    end = max(e.ts for e in events)
    extra = [a for i, a in lake_anomalies().items() if i not in expected_anomalies]
    assert all(a["ts"] > end - timedelta(minutes=10) for a in extra)


def _event_dicts(worker):
    """Lake rows back into canonical-event dicts (the lake renames a bay's `occupied`)."""
    for row in read_table(worker.data_dir, "events").to_pylist():
        row = {k: v for k, v in row.items() if v is not None}
        if row["event_type"] == "bay_status":
            row["occupied"] = row.pop("bay_occupied")
        row["flags"] = tuple(row.get("flags") or ())
        yield row
