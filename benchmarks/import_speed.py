"""`parkflow import` speed: vendor history files into the lake, events per second and peak memory.

The files are a simulation of `--days` days at six facilities (`parkflow simulate --out`, with
its default faults), written once to a scratch folder; each run imports them into a new data
dir in a fresh process (so every run pays the same start-up and its own peak RSS). Prints the
median and range of `--runs` runs. Target (issue 22): >= 50,000 events/s, so a year of a
mid-size city (50M events) imports in under 20 minutes.

    .venv/bin/python benchmarks/import_speed.py [--days 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

TARGET_EVENTS_PER_S = 50_000


def simulate(folder: Path, days: float) -> None:
    """Vendor files of `days` days at six facilities."""
    from parkflow.registry import PluginRegistry
    from parkflow.simulator import FileSink, SimulationConfig, run_simulation

    config = SimulationConfig(
        start=datetime(2026, 11, 2, tzinfo=UTC), days=days, facilities=6, seed=5
    )
    asyncio.run(run_simulation(config, FileSink(folder), PluginRegistry.discover()))


def one_import(files: Path, data_dir: Path) -> dict[str, float]:
    """Import `files` into `data_dir` in this process: events, seconds, peak RSS (MiB)."""
    from parkflow.estate import sample_estate
    from parkflow.importing import import_files
    from parkflow.registry import PluginRegistry
    from parkflow.replay import vendor_files

    registry = PluginRegistry.discover()
    pairs = vendor_files([files], registry, None)
    report = import_files(
        pairs, registry, data_dir, sample_estate(), plate_key=b"benchmark-plate-key-0123"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"events": report.events, "seconds": report.seconds, "peak_rss_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_import(Path(args.child[0]), Path(args.child[1]))))
        return
    with tempfile.TemporaryDirectory(prefix="parkflow-import-") as scratch:
        files = Path(scratch) / "files"
        simulate(files, args.days)
        runs = []
        for run in range(args.runs):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(files), f"{scratch}/data{run}"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    rates = [r["events"] / r["seconds"] for r in runs]
    peaks = [r["peak_rss_mib"] for r in runs]
    events = int(runs[0]["events"])
    print(
        f"parkflow import, {args.days:g} days at 6 facilities ({events:,} events), {len(runs)} runs"
    )
    print(
        f"  events/s: median {statistics.median(rates):,.0f} "
        f"(range {min(rates):,.0f}-{max(rates):,.0f}); target >= {TARGET_EVENTS_PER_S:,}: "
        + ("met" if statistics.median(rates) >= TARGET_EVENTS_PER_S else "NOT met")
    )
    print(f"  peak RSS: median {statistics.median(peaks):,.0f} MiB "
          f"({statistics.median(peaks) * 1024 / events:,.1f} KiB per event)")  # fmt: skip


if __name__ == "__main__":
    main()
