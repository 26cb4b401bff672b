"""The streaming worker SIGKILLed at random moments during a replay loses no session and counts
none twice: after each restart it catches up, and at the end the lake holds every event and,
in its newest versions, exactly the sessions of the plain matcher over the same input.

The full drill (10 kills over 200,000 events, with recovery times) is
`benchmarks/crash_recovery.py`; this is its bounded version for `make test`.
"""

from collections import Counter
from datetime import UTC, datetime

import pytest

from parkflow.broker import EmbeddedBroker
from parkflow.registry import PluginRegistry
from parkflow.simulator import FaultRates, SimulationConfig
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Transport
from parkflow.simulator.world import simulate_world
from tests.lake_check import expected_events, same_second_reentries
from tests.processes import group_gone
from tests.reliability.crash_drill import CrashDrill

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REGISTRY = PluginRegistry.discover()
KILLS = 3
REPLAY_SECONDS = 60


def payloads() -> list:
    """Half a day at the six catalogue facilities (about 21,000 payloads, 23,000 events), with
    field faults that do not reorder a vehicle's events (those make a stream and a sorted
    replay legitimately differ): corrupted payloads, misreads, missed exits, duplicates."""
    faults = FaultRates.none().model_copy(
        update={"garbage": 0.01, "misread": 0.03, "missing_exit": 0.03, "duplicate": 0.01}
    )
    config = SimulationConfig(
        start=datetime(2026, 11, 17, 5, tzinfo=UTC), days=0.5, facilities=6, seed=7, faults=faults
    )
    world = simulate_world(config, first_facilities(6), Counter())
    return list(Transport(REGISTRY, config.faults, config.seed).deliver(world))


@pytest.fixture
def drill_broker():
    """A broker of the test's own: topics, offsets and consumer group start empty."""
    with EmbeddedBroker() as broker:
        yield broker
    assert group_gone(broker.process.pid, within=10)


@pytest.mark.timeout(600)
def test_three_sigkills_during_a_replay_lose_nothing_and_count_nothing_twice(
    drill_broker, tmp_path
):
    stream = payloads()
    # with none of these in the input, the outcome does not depend on how partitions interleave
    assert not same_second_reentries(expected_events(stream, REGISTRY))
    drill = CrashDrill(
        drill_broker.bootstrap,
        tmp_path,
        stream,
        REGISTRY,
        kills=KILLS,
        rate=len(stream) / REPLAY_SECONDS,
        seed=2026,
    )
    result = drill.run(timeout=180)
    assert len(result.recoveries) == KILLS  # each restart caught up (else run raises)
    assert all(r.backlog > 0 for r in result.recoveries)  # killed with work in flight
    assert result.missing_events == 0
    assert result.sessions.expected > 1000
    assert result.sessions.ok, result.sessions.summary()
    assert result.closed_after > 0  # sessions open at a kill found their exits afterwards
