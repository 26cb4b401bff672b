"""The matcher on simulated traffic, through the real plugins and plate pseudonymisation."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from parkflow.parsing import parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from parkflow.records import SessionStatus
from parkflow.registry import PluginRegistry
from parkflow.simulator import FaultRates, SimulationConfig
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Transport
from parkflow.simulator.world import simulate_world
from streaming.rules.sessions import latest_versions, match_stream

START = datetime(2026, 11, 9, tzinfo=UTC)
REGISTRY = PluginRegistry.discover()
HASHER = PlateHasher(b"test-key-" * 4)


def delivered_events(faults: FaultRates, days: float = 1, seed: int = 4):
    """What the normalize step would put on parking.events: parsed, plates pseudonymised."""
    config = SimulationConfig(start=START, days=days, facilities=1, seed=seed, faults=faults)
    truth = Counter()
    events = []
    for payload in Transport(REGISTRY, faults, seed).deliver(
        simulate_world(config, first_facilities(1), truth)
    ):
        result = parse_payload(REGISTRY.get(payload.vendor), payload.data)
        events += pseudonymise_plates(result.events, HASHER)
    return events, truth


def matched_share(events) -> float:
    """Closed sessions per exit read: 1.0 when every exit found its entry."""
    end = START + timedelta(days=5)
    sessions = latest_versions(match_stream(events, until=end).sessions).values()
    closed = sum(s.status is SessionStatus.CLOSED for s in sessions)
    exits = len({e.event_id for e in events if e.event_type == "exit"})
    return closed / exits


def test_clean_traffic_matches_every_session_that_ended():
    events, truth = delivered_events(FaultRates.none())
    assert matched_share(events) == 1.0
    assert sum(e.event_type == "exit" for e in events) > 0.8 * truth["sessions"]


def test_three_percent_misreads_still_match_99_percent_of_sessions():
    """ARCHITECTURE: with plates folded before hashing, 3% misreads keep >= 99% matched."""
    events, truth = delivered_events(FaultRates.none().model_copy(update={"misread": 0.03}))
    assert truth["misreads"] > 30
    assert 0.99 <= matched_share(events) < 1.0


@pytest.mark.parametrize("fault", ["duplicate", "late"])
def test_duplicates_and_reordering_keep_sessions_matched(fault):
    events, _ = delivered_events(FaultRates.none().model_copy(update={fault: 0.05}))
    assert matched_share(events) >= 0.99
