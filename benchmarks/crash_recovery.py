"""Crash recovery: the streaming worker SIGKILLed 10 times at random moments during a
200,000-event replay, restarted each time; recovery time per kill and a check of the lake.

Starts the embedded broker, one `parkflow worker`, and replays simulated traffic (the six
catalogue facilities; corrupted payloads, misreads, missed exits and duplicates, no late
deliveries) into the raw topics at a fixed rate. One seeded random moment in each tenth of
the replay (never before the previous restart caught up), the worker's process group gets
SIGKILL and a new worker is started at once. Recovery = restart -> every event of every
payload sent before the restart is in the lake (`tests/reliability/crash_drill.py`).

At the end the lake must hold every event, and its sessions (newest version of each, as the
marts keep them) must be exactly those of the plain matcher over the same input: missing and
duplicated must be 0.

    .venv/bin/python benchmarks/crash_recovery.py [--events 200000] [--kills 10]
        [--rate 500] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parkflow.broker import EmbeddedBroker
from parkflow.registry import PluginRegistry
from parkflow.simulator import FaultRates, SimulationConfig
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Payload, Transport
from parkflow.simulator.world import simulate_world
from tests.lake_check import expected_events, lake_sessions, same_second_reentries
from tests.reliability.crash_drill import CrashDrill, DrillResult

REGISTRY = PluginRegistry.discover()
#: Events a simulated day at the six catalogue facilities gives, roughly.
EVENTS_PER_DAY = 42_000


def replay_input(events: int, seed: int) -> list[Payload]:
    """Simulated payloads in delivery order, cut after `events` canonical events."""
    faults = FaultRates.none().model_copy(
        update={"garbage": 0.01, "misread": 0.03, "missing_exit": 0.03, "duplicate": 0.01}
    )
    days = min(366.0, events / EVENTS_PER_DAY * 1.2)
    config = SimulationConfig(
        start=datetime(2026, 9, 1, tzinfo=UTC), days=days, facilities=6, seed=seed, faults=faults
    )
    world = simulate_world(config, first_facilities(6), Counter())
    payloads, total = [], 0
    for payload in Transport(REGISTRY, config.faults, seed).deliver(world):
        if total >= events:
            break
        payloads.append(payload)
        total += payload.events
    return payloads


def report(result: DrillResult, data_dir: Path, ties: set[tuple[str, str]]) -> None:
    """Print the figures of the drill."""
    check = result.sessions
    newest = lake_sessions(data_dir)
    on_ties = [i for i in check.different if (newest[i].facility_id, newest[i].plate) in ties]
    print(
        f"replayed {result.payloads:,} payloads, {result.events:,} distinct events, in "
        f"{result.seconds:.0f} s; kills: {len(result.recoveries)}"
    )
    for number, recovery in enumerate(result.recoveries, 1):
        print(
            f"  kill {number:2} at {recovery.killed_at_s:6.1f} s: backlog {recovery.backlog:6,} "
            f"payloads, partitions after {recovery.ready_s:4.1f} s, caught up after "
            f"{recovery.caught_up_s:5.1f} s"
        )
    print(f"recovery: {result.recovery_summary()}")
    print(
        f"events: missing {result.missing_events}; lake rows {result.event_rows:,} "
        f"({result.event_rows - result.events + result.missing_events:,} rows more than events: "
        "device re-sends and re-deliveries after kills, de-duplicated by event id downstream)"
    )
    print(
        f"sessions checked: {check.expected:,} ({check.rows:,} session rows in the lake); "
        f"missing {len(check.missing)}, duplicated {len(check.extra) + len(check.conflicting)} "
        f"(extra {len(check.extra)}, conflicting versions {len(check.conflicting)}), different "
        f"{len(check.different)} (of which on same-second exit/re-entry ties: {len(on_ties)})"
    )
    for session_id, (expected, got) in list(check.different.items())[:5]:
        print(f"  different: {session_id} expected {expected} lake {got}")
    print(
        f"sessions open in the lake at a kill: {result.open_at_kills:,}, closed by a restarted "
        f"worker: {result.closed_after:,}"
    )
    verdict = check.ok and result.missing_events == 0
    outcome = "PASS" if verdict else "FAIL"
    print(f"verdict: {outcome} (nothing may be missing, duplicated or different)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events to replay")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--rate", type=float, default=500.0, help="payloads/s of the replay")
    parser.add_argument("--seed", type=int, default=1, help="simulation and kill moments")
    parser.add_argument("--timeout", type=float, default=600.0, help="per wait, in seconds")
    parser.add_argument("--data-dir", type=Path, help="keep the lake here (default: a temp dir)")
    args = parser.parse_args()
    payloads = replay_input(args.events, args.seed)
    ties = {(f, p) for f, p, _ in same_second_reentries(expected_events(payloads, REGISTRY))}
    print(
        f"input: {len(payloads):,} payloads at {args.rate:,.0f}/s "
        f"({len(payloads) / args.rate:.0f} s); same-second exit/re-entry ties: {len(ties)}"
    )
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        data_dir = args.data_dir or Path(tmp)
        drill = CrashDrill(
            broker.bootstrap,
            data_dir,
            payloads,
            REGISTRY,
            kills=args.kills,
            rate=args.rate,
            seed=args.seed,
        )
        result = drill.run(timeout=args.timeout)
        report(result, data_dir, ties)


if __name__ == "__main__":
    main()
