"""Streaming throughput and latency: vendor payloads -> worker(s) -> Parquet lake.

Starts the embedded broker and `--workers` `parkflow worker` processes sharing
8 partitions, then

1. throughput: loads a simulated multi-day stream into the raw topics, starts
   the workers and times until every event is in lake/raw/events and every
   session the plain matcher finds over the same events is in
   lake/raw/sessions (normalize -> parking.events -> sessions -> sink; the
   devices and occupancy agents run too). Events/s = events / that time.
2. latency: produces at a fixed rate and measures, per payload, the time from
   its send to the moment the Parquet file holding its first event exists.

Targets (issue 3): >= 10,000 events/s sustained, p99 latency <= 3 s.

    .venv/bin/python benchmarks/stream.py [--days 4] [--facilities 6] [--workers 1]
        [--rate 2000] [--latency-seconds 20] [--no-speedups] [--json FILE]

`--json` also writes the figures to FILE (`targets.py` reads them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parkflow.broker import EmbeddedBroker
from parkflow.lake import table_files
from parkflow.parsing import parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from parkflow.registry import PluginRegistry
from parkflow.simulator import KafkaSink, SimulationConfig, pause_until
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Payload, Transport
from parkflow.simulator.world import simulate_world
from streaming.rules.sessions import latest_versions, match_stream
from tests.worker_process import PLATE_KEY, WorkerProcess

REGISTRY = PluginRegistry.discover()
PARTITIONS = 8


def payloads(days: float, facilities: int, seed: int, start: datetime) -> list[Payload]:
    """What the devices of a simulated period send, faults included."""
    config = SimulationConfig(start=start, days=days, facilities=facilities, seed=seed)
    world = simulate_world(config, first_facilities(facilities), Counter())
    return list(Transport(REGISTRY, config.faults, seed).deliver(world))


def parsed(payload: Payload) -> list:
    """The canonical events the worker makes of a payload (none when it is dead-lettered)."""
    result = parse_payload(REGISTRY.get(payload.vendor), payload.data)
    return result.events if result.ok else []


def expected_outcome(stream: list[Payload]) -> tuple[set[str], set[str], int]:
    """Event ids and session ids the lake must hold once the stream is processed, and the
    event rows it gets (more than the ids: the devices' resent payloads land again)."""
    hasher = PlateHasher(PLATE_KEY.encode())
    events = [e for p in stream for e in pseudonymise_plates(parsed(p), hasher)]
    sessions = latest_versions(match_stream(events).sessions)
    return {e.event_id for e in events}, set(sessions), len(events)


class LakeIds:
    """id -> mtime of the earliest lake file holding it (a session is in several), read
    incrementally: each `update()` reads only the files written since the last one, so the
    benchmark can poll often without taking the worker's CPU."""

    def __init__(self, data_dir: Path, table: str, column: str) -> None:
        self.data_dir, self.table, self.column = data_dir, table, column
        self.read: set[Path] = set()
        self.found: dict[str, float] = {}

    def update(self) -> dict[str, float]:
        """Read the new files; returns every id found so far."""
        for path in table_files(self.data_dir, self.table):
            if path in self.read:
                continue
            self.read.add(path)
            mtime = path.stat().st_mtime
            for value in pq.read_table(path, columns=[self.column]).column(0).to_pylist():
                self.found[value] = min(mtime, self.found.get(value, mtime))
        return self.found


def lake_ids(data_dir: Path, table: str, column: str) -> dict[str, float]:
    """id -> mtime of the earliest lake file holding it, read once."""
    return LakeIds(data_dir, table, column).update()


def sunk_rows(workers: list[WorkerProcess], table: str) -> float:
    """Rows the workers report written to a lake table (cheap to poll)."""
    total = 0.0
    pattern = re.compile(rf'parkflow_sink_rows_total\{{table="{table}"\}} ([0-9.e+]+)')
    for worker in workers:
        with urllib.request.urlopen(worker.url + "/metrics", timeout=10) as response:
            found = pattern.search(response.read().decode())
        total += float(found.group(1)) if found else 0.0
    return total


async def produce(bootstrap: str, batch: list[Payload], rate: float | None = None) -> list[float]:
    """Send payloads (at `rate` per second when given); the wall time each was sent."""
    sink = KafkaSink(bootstrap, PARTITIONS)
    await sink.open([REGISTRY.get(n) for n in REGISTRY.names()])
    sent_at = []
    started = time.monotonic()
    try:
        for index, payload in enumerate(batch):
            if rate:
                await pause_until(started + index / rate)
            await sink.send(payload)
            sent_at.append(time.time())
    finally:
        await sink.close()
    return sent_at


def worker_cpu_and_rss(workers: list[WorkerProcess]) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of the worker processes so far (from /proc)."""
    cpu, rss = 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for worker in workers:
        pids = [worker.process.pid]
        children = Path(f"/proc/{worker.process.pid}/task/{worker.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            peak = re.search(r"VmHWM:\s+(\d+) kB", status)
            rss += int(peak.group(1)) / 1024 if peak else 0
    return cpu, rss


def throughput(args, broker: EmbeddedBroker, data_dir: Path, figures: dict) -> list[WorkerProcess]:
    """Phase 1, its figures added to `figures`; returns the running workers for phase 2."""
    stream = payloads(args.days, args.facilities, 1, datetime(2026, 10, 1, tzinfo=UTC))
    event_ids, session_ids, event_rows = expected_outcome(stream)
    workers = [WorkerProcess(broker.bootstrap, data_dir).start() for _ in range(args.workers)]
    total = workers[0].get("/health")["assigned_partitions"] if len(workers) == 1 else None
    while total is None:  # wait until the group has settled: each partition on one worker
        counts = [w.get("/health")["assigned_partitions"] for w in workers]
        if all(counts) and len(set(counts)) <= 2 and max(counts) - min(counts) <= len(counts):
            total = sum(counts)
        time.sleep(0.5)
    started = time.time()
    asyncio.run(produce(broker.bootstrap, stream))
    produced = time.time()
    deadline = time.monotonic() + args.timeout
    while sunk_rows(workers, "events") < event_rows:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{sunk_rows(workers, 'events'):,.0f} of {event_rows:,} event rows")
        time.sleep(0.2)
    sessions = LakeIds(data_dir, "sessions", "session_id")
    while not session_ids <= sessions.update().keys():
        if time.monotonic() > deadline:
            raise TimeoutError("not every session landed")
        time.sleep(0.2)
    done = time.time()
    missing = event_ids - lake_ids(data_dir, "events", "event_id").keys()
    cpu, rss = worker_cpu_and_rss(workers)
    seconds = done - started
    print(
        f"throughput, {args.workers} worker(s){'' if args.speedups else ', no speedups'}: "
        f"{len(event_ids):,} events ({len(stream):,} payloads, {len(session_ids):,} sessions) "
        f"produced in {produced - started:.1f} s, all in the lake after {seconds:.1f} s -> "
        f"{len(event_ids) / seconds:,.0f} events/s; worker CPU {cpu / len(event_ids) * 1e5:.1f} s "
        f"per 100K events, peak RSS {rss:,.0f} MiB; missing events: {len(missing)}"
    )
    figures.update(
        workers=args.workers,
        events=len(event_ids),
        events_per_s=len(event_ids) / seconds,
        cpu_s_per_100k=cpu / len(event_ids) * 1e5,
        peak_rss_mib=rss,
        missing_events=len(missing),
    )
    return workers


def latency(
    args, broker: EmbeddedBroker, data_dir: Path, workers: list[WorkerProcess], figures: dict
) -> None:
    """Phase 2: send at a fixed rate, then read when each payload's first event landed."""
    count = int(args.rate * args.latency_seconds)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    live = payloads(max(1.0, count / 15_000), args.facilities, 2, start)[:count]
    firsts = [events[0].event_id if (events := parsed(p)) else None for p in live]
    before = sunk_rows(workers, "events")
    wanted = before + sum(len(parsed(p)) for p in live)
    sent_at = asyncio.run(produce(broker.bootstrap, live, rate=args.rate))
    achieved = len(live) / (sent_at[-1] - sent_at[0])
    deadline = time.monotonic() + 300
    while sunk_rows(workers, "events") < wanted and time.monotonic() < deadline:
        time.sleep(0.5)
    landed = lake_ids(data_dir, "events", "event_id")
    latencies = sorted(
        landed[first] - sent for first, sent in zip(firsts, sent_at, strict=True) if first in landed
    )
    p50 = statistics.median(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(
        f"latency at {achieved:,.0f} payloads/s ({len(latencies):,} payloads): "
        f"p50 {p50:.2f} s, p99 {p99:.2f} s, max {latencies[-1]:.2f} s"
    )
    figures["latency"] = {"rate": achieved, "p50_s": p50, "p99_s": p99, "max_s": latencies[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=4.0, help="simulated days for throughput")
    parser.add_argument("--facilities", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rate", type=float, default=2000.0, help="payloads/s for latency")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--no-speedups", dest="speedups", action="store_false")
    parser.add_argument("--json", type=Path, help="write the figures to this file too")
    args = parser.parse_args()
    os.environ["PARKFLOW_PARTITIONS"] = str(PARTITIONS)
    os.environ["PARKFLOW_FAUST_SPEEDUPS"] = "1" if args.speedups else "0"
    figures: dict = {"latency": None}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        data_dir = Path(tmp)
        workers = []
        try:
            workers = throughput(args, broker, data_dir, figures)
            if args.latency_seconds > 0:
                latency(args, broker, data_dir, workers, figures)
        finally:
            for worker in workers:
                worker.stop()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest child process peak RSS: {peak:,.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
