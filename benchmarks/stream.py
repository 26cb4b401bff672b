"""Streaming throughput and latency: vendor payloads -> worker -> Parquet lake.

Starts the embedded broker and one `parkflow worker` process (two with
`--workers 2`), then

1. throughput: produces a simulated multi-day stream as fast as possible and
   times until every event is in the lake (normalize -> parking.events ->
   sessions, devices, occupancy agents and the events sink);
2. latency: produces at a fixed rate and measures, per payload, the time from
   its send to the moment the Parquet file holding its event exists.

Target (issue 3): >= 10,000 events/s sustained, p99 latency <= 3 s.

    .venv/bin/python benchmarks/stream.py [--days 4] [--rate 2000] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parkflow.broker import EmbeddedBroker
from parkflow.lake import table_dir
from parkflow.parsing import parse_payload
from parkflow.registry import PluginRegistry
from parkflow.simulator import KafkaSink, SimulationConfig
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Transport
from parkflow.simulator.world import simulate_world
from tests.integration.conftest import WorkerProcess

REGISTRY = PluginRegistry.discover()


def payloads(days: float, seed: int, start: datetime):
    config = SimulationConfig(start=start, days=days, facilities=3, seed=seed)
    world = simulate_world(config, first_facilities(3), Counter())
    return list(Transport(REGISTRY, config.faults, seed).deliver(world))


def lake_event_ids(data_dir: Path) -> dict[str, float]:
    """event id -> mtime of the file that holds it."""
    found: dict[str, float] = {}
    folder = table_dir(data_dir, "events")
    for path in folder.glob("date=*/*.parquet") if folder.exists() else []:
        mtime = path.stat().st_mtime
        for event_id in pq.read_table(path, columns=["event_id"]).column(0).to_pylist():
            found.setdefault(event_id, mtime)
    return found


async def produce(bootstrap: str, batch, rate: float | None = None) -> list[float]:
    """Send payloads (at `rate` per second when given); the wall time each was sent."""
    sink = KafkaSink(bootstrap, 8)
    await sink.open([REGISTRY.get(n) for n in REGISTRY.names()])
    sent_at = []
    started = time.time()
    try:
        for index, payload in enumerate(batch):
            if rate:
                due = started + index / rate
                if due > time.time():
                    await asyncio.sleep(due - time.time())
            await sink.send(payload)
            sent_at.append(time.time())
    finally:
        await sink.close()
    return sent_at


def wait_for_events(data_dir: Path, count: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(lake_event_ids(data_dir)) >= count:
            return time.time()
        time.sleep(0.5)
    raise TimeoutError(f"only {len(lake_event_ids(data_dir))} of {count} events landed")


def first_event_id(payload) -> str | None:
    result = parse_payload(REGISTRY.get(payload.vendor), payload.data)
    return result.events[0].event_id if result.ok and result.events else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=4.0, help="simulated days for throughput")
    parser.add_argument("--rate", type=float, default=2000.0, help="payloads/s for latency")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    os.environ["PARKFLOW_PARTITIONS"] = "8"
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        data_dir = Path(tmp)
        workers = [WorkerProcess(broker.bootstrap, data_dir).start() for _ in range(args.workers)]
        try:
            stream = payloads(args.days, 1, datetime(2026, 10, 1, tzinfo=UTC))
            events = sum(p.events for p in stream)
            started = time.time()
            asyncio.run(produce(broker.bootstrap, stream))
            produced = time.time()
            landed = wait_for_events(data_dir, events, timeout=1800)
            print(
                f"throughput: {events:,} events ({len(stream):,} payloads) from "
                f"{args.workers} worker(s): produced in {produced - started:.1f} s, "
                f"all in the lake after {landed - started:.1f} s -> "
                f"{events / (landed - started):,.0f} events/s"
            )

            count = int(args.rate * args.latency_seconds)
            live = payloads(args.days, 2, datetime(2026, 11, 1, tzinfo=UTC))[:count]
            ids = [first_event_id(p) for p in live]
            sent_at = asyncio.run(produce(broker.bootstrap, live, rate=args.rate))
            wanted = {i for i in ids if i}
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                found = lake_event_ids(data_dir)
                if wanted <= found.keys():
                    break
                time.sleep(0.5)
            latencies = sorted(
                found[i] - t for i, t in zip(ids, sent_at, strict=True) if i in found
            )
            p50 = statistics.median(latencies)
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            print(
                f"latency at {args.rate:,.0f} payloads/s: p50 {p50:.2f} s, p99 {p99:.2f} s "
                f"({len(latencies):,} payloads)"
            )
        finally:
            for worker in workers:
                worker.stop()


if __name__ == "__main__":
    main()
