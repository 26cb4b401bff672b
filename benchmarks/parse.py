"""Parsing throughput per vendor plugin on one core.

Payloads come from the simulator (a clean day at six facilities), so each plugin
parses the mix of messages its devices really send. Prints events/s and
payloads/s per plugin: the best of several passes over all payloads, pinned to
one core. Target (issue 2): >= 50,000 events/s for camguard.

    .venv/bin/python benchmarks/parse.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from parkflow.registry import PluginRegistry
from parkflow.simulator import FaultRates, FileSink, SimulationConfig, run_simulation

TARGETS = {"camguard": 50_000}


def payloads_per_vendor(folder: Path) -> dict[str, list[bytes]]:
    """Simulate a clean day at every facility and read back each vendor's payloads."""
    config = SimulationConfig(start=datetime(2026, 11, 16, tzinfo=UTC), days=1, facilities=6,
                              seed=1, faults=FaultRates.none())  # fmt: skip
    registry = PluginRegistry.discover()
    asyncio.run(run_simulation(config, FileSink(folder), registry))
    return {path.stem: path.read_bytes().splitlines() for path in sorted(folder.iterdir())}


def measure(parse, payloads: list[bytes], seconds: float, rounds: int = 5) -> tuple[float, float]:
    """Best (payloads/s, events/s) of `rounds` passes over `payloads` within about `seconds`.

    The best round is the least disturbed by other load on the machine (timeit's rule).
    """
    events = sum(len(parse(p)) for p in payloads)  # warm-up, and events per pass
    best = float("inf")
    deadline = time.perf_counter() + seconds
    for done in range(rounds * 100):
        started = time.perf_counter()
        for payload in payloads:
            parse(payload)
        best = min(best, time.perf_counter() - started)
        if done + 1 >= rounds and time.perf_counter() > deadline:
            break
    return len(payloads) / best, events / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per plugin")
    parser.add_argument("--plugin", action="append", help="only these plugins")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        # one core, the last: core 0 takes the machine's interrupts
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    registry = PluginRegistry.discover()
    with tempfile.TemporaryDirectory() as tmp:
        samples = payloads_per_vendor(Path(tmp))
    gc.collect()
    gc.freeze()  # the simulator's leftovers are not the parser's garbage to scan
    table = Table(title=f"parse throughput, one core — Python {platform.python_version()}, "
                  f"{platform.machine()}, {datetime.now(UTC):%Y-%m-%d}")  # fmt: skip
    for column in ("plugin", "payloads", "payloads/s", "events/s", "target", "ok"):
        table.add_column(column, justify="left" if column == "plugin" else "right")
    for name, payloads in samples.items():
        if args.plugin and name not in args.plugin:
            continue
        per_payload, per_event = measure(registry.get(name).parse, payloads, args.seconds)
        target = TARGETS.get(name)
        verdict = "" if target is None else ("yes" if per_event >= target else "NO")
        table.add_row(name, f"{len(payloads):,}", f"{per_payload:,.0f}", f"{per_event:,.0f}",
                      f"{target:,}" if target else "", verdict)  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
