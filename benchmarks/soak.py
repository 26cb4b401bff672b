"""Soak: one worker and the embedded broker under steady load; worker memory and consumer lag
must stay flat.

Load: 5,000 power meters (VoltWatch line protocol) each reporting every 10 s, stamped with
the time they are sent (500 telemetry payloads/s), plus the gate traffic of the six catalogue
facilities in real time from now (the simulator with its default faults: entries, payments
and exits, bay sensors, counters, their own meters). Every `--sample-s` seconds: the worker's
RSS (VmRSS), its consumer lag (all topics, from its /metrics), the events it landed in the
lake since the last sample, and the broker's RSS.

Verdict, over the last two thirds of the samples (the first third is warm-up), from the
least-squares slope: worker RSS is flat when it would grow by less than 5% of its mean over
that window; the lag is flat when it would grow by less than 10 s of input over the window
and its mean stays under 30 s of input (the worker keeps up).

    .venv/bin/python benchmarks/soak.py [--minutes 30] [--devices 5000] [--interval-s 10]
        [--sample-s 30]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parkflow.broker import EmbeddedBroker
from parkflow.registry import PluginRegistry
from parkflow.simulator import KafkaSink, Pacing, SimulationConfig, run_simulation
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Payload
from tests.paced_producer import PacedProducer
from tests.worker_process import WorkerProcess

REGISTRY = PluginRegistry.discover()
PARTITIONS = 4


def meter_payloads(devices: int, seed: int = 1) -> Iterator[Payload]:
    """Device after device, round after round, forever: one reading each, stamped now."""
    rng = random.Random(seed)
    sites = [f.facility_id for f in first_facilities(6)]
    for _ in itertools.count():
        for number in range(devices):
            device = f"SOAK-PM-{number:05d}"
            line = (
                f"power,site={sites[number % len(sites)]},device={device},kind=sensor "
                f"voltage={rng.uniform(226, 234):.1f},current={rng.uniform(0.2, 3.0):.2f},"
                f"temp={rng.uniform(15, 30):.1f} {time.time_ns()}"
            )
            yield Payload(datetime.now(UTC), "voltwatch", device.encode(), line.encode(), 1)


class GateTraffic(threading.Thread):
    """The simulator's six facilities in real time, from now, into the raw topics."""

    def __init__(self, bootstrap: str, minutes: float) -> None:
        super().__init__(name="gate-traffic", daemon=True)
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
        self.config = SimulationConfig(start=start, days=(minutes + 5) / 1440, facilities=6)
        self.sink = KafkaSink(bootstrap, PARTITIONS)
        self.error: BaseException | None = None
        self.payloads = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    def run(self) -> None:
        """Send until the period ends or `stop()`."""
        try:
            asyncio.run(self._main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            self.error = exc

    async def _main(self) -> None:
        def count(_: Payload) -> None:
            self.payloads += 1

        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(
            run_simulation(
                self.config, self.sink, REGISTRY, pacing=Pacing(speed=1.0), on_payload=count
            )
        )
        await self._task

    def stop(self, timeout: float = 60) -> None:
        """Cancel the simulation (the sink still flushes what it was given)."""
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self.join(timeout)


def rss_mib(pid: int) -> float:
    """Resident memory of a process, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def landed_events(worker: WorkerProcess) -> float:
    """Events the worker has written to the lake since it started (its /metrics)."""
    _, text = worker.request("GET", "/metrics", timeout=10)
    found = re.search(r'parkflow_sink_rows_total\{table="events"\} ([0-9.e+]+)', str(text))
    return float(found.group(1)) if found else 0.0


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points (0 for fewer than two)."""
    if len(points) < 2:
        return 0.0
    xs, ys = zip(*points, strict=True)
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def verdict(samples: list[dict], input_rate: float) -> tuple[bool, bool, str]:
    """(RSS flat, lag flat, explanation) over the last two thirds of the samples."""
    end = samples[-1]["minute"]
    window = [s for s in samples if s["minute"] >= end / 3]
    minutes = window[-1]["minute"] - window[0]["minute"]
    rss_mean = statistics.fmean(s["rss"] for s in window)
    rss_growth = slope([(s["minute"], s["rss"]) for s in window]) * minutes
    lag_mean = statistics.fmean(s["lag"] for s in window)
    lag_growth = slope([(s["minute"], s["lag"]) for s in window]) * minutes
    rss_flat = rss_growth < 0.05 * rss_mean
    lag_flat = lag_growth < 10 * input_rate and lag_mean < 30 * input_rate
    text = (
        f"over the last {minutes:.1f} min ({len(window)} samples): worker RSS mean "
        f"{rss_mean:.0f} MiB, trend {rss_growth:+.1f} MiB ({rss_growth / rss_mean:+.1%}; flat "
        f"under +5%); lag mean {lag_mean:,.0f} messages, trend {lag_growth:+,.0f} (flat under "
        f"+{10 * input_rate:,.0f} = 10 s of input, mean under {30 * input_rate:,.0f})"
    )
    return rss_flat, lag_flat, text


def soak(args: argparse.Namespace, broker: EmbeddedBroker, data_dir: Path) -> list[dict]:
    """Run the load for `args.minutes`, sampling as it goes; the samples."""
    worker = WorkerProcess(broker.bootstrap, data_dir, env={"PARKFLOW_SINK_FLUSH_S": "2.0"})
    worker.start()
    rate = args.devices / args.interval_s
    meters = PacedProducer(
        KafkaSink(broker.bootstrap, PARTITIONS), meter_payloads(args.devices), rate, REGISTRY
    )
    gates = GateTraffic(broker.bootstrap, args.minutes)
    samples: list[dict] = []
    try:
        meters.start()
        gates.start()
        started = time.monotonic()
        landed = landed_events(worker)
        lag: dict[str, float] = {}
        print(" minute  worker RSS MiB  consumer lag  events/s landed  broker RSS MiB")
        for number in itertools.count(1):
            due = started + number * args.sample_s
            if due > started + args.minutes * 60:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            for thread in (meters, gates):
                if thread.error is not None:
                    raise RuntimeError(f"{thread.name} failed") from thread.error
            now_landed = landed_events(worker)
            lag = worker.consumer_lag()
            sample = {
                "minute": (time.monotonic() - started) / 60,
                "rss": worker.rss_mib(),
                "lag": sum(lag.values()),
                "landed_per_s": (now_landed - landed) / args.sample_s,
                "broker_rss": rss_mib(broker.process.pid),
            }
            landed = now_landed
            samples.append(sample)
            print(
                f"{sample['minute']:7.1f}  {sample['rss']:13.0f}  {sample['lag']:12,.0f}  "
                f"{sample['landed_per_s']:15,.0f}  {sample['broker_rss']:14,.0f}",
                flush=True,
            )
        seconds = time.monotonic() - started
        by_topic = ", ".join(f"{t} {n:,.0f}" for t, n in sorted(lag.items(), key=lambda i: -i[1]))
        print(f"lag by topic at the last sample: {by_topic}")
        print(
            f"sent: {meters.sent:,} meter payloads ({meters.sent / seconds:,.0f}/s), "
            f"{gates.payloads:,} simulator payloads (gates, payments, bays, counts, site meters)"
        )
    finally:
        meters.stop(timeout=60)
        gates.stop(timeout=60)
        worker.stop()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--interval-s", type=float, default=10.0, help="between two readings")
    parser.add_argument("--sample-s", type=float, default=30.0)
    args = parser.parse_args()
    print(
        f"soak: {args.minutes:g} min, {args.devices:,} meters every {args.interval_s:g} s "
        f"({args.devices / args.interval_s:,.0f} payloads/s) + real-time gate traffic of six "
        f"facilities; a sample every {args.sample_s:g} s"
    )
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        samples = soak(args, broker, Path(tmp))
    if len(samples) < 3:
        print("verdict: too few samples (run longer than three sample intervals)")
        return
    rss_flat, lag_flat, text = verdict(samples, args.devices / args.interval_s)
    print(text)
    print(
        f"verdict: worker RSS {'FLAT' if rss_flat else 'GROWING'}, consumer lag "
        f"{'FLAT' if lag_flat else 'GROWING'}"
    )


if __name__ == "__main__":
    main()
