"""The performance targets of issue 8 in one run: each measured, then one table, met or not.

Runs the benchmarks that measure them, one after the other (each prints its own figures as it
goes), reads the figures each wrote with `--json`, and prints the table of targets:

- `stream-1`, `stream-2`: `stream.py --workers 1` (`2`) `--rate 5000`: events/s sustained,
  p99 at 5,000 payloads/s, worker RSS;
- `stream-4`: `stream.py --workers 4 --latency-seconds 0`: the scale-out curve's third point;
- `peers`: `peers.py` (200K events): ParkFlow / quixstreams events/s, identical sessions,
  p99 and RSS of each contender;
- `dbt`: `dbt_floor.py --events 10000000`: the 10M full build and incremental hour, with and
  without tests, against the floor;
- `dashboard`: `dashboard.py --events 50000000 --repeat 3 --rebuild`: the 50M `dbt build`
  (its time and peak RSS), then first render and filter change per page.

18-25 minutes on the build machine (2 cores), with the simulated base week cached under
`data/benchmarks/dashboard/base` (65 s more on the first run). The figures of each step are
kept in `--out` (default `data/benchmarks/targets/`); `--report` prints the table from them
without measuring again, and `--steps` re-measures some. The same table is written there as
Markdown (`targets.md`) for `RESULTS.md`. What bounds each target that is not met, with its
profile, is in `RESULTS.md`.

Exit status 1 when a step failed (for instance, contenders' sessions that differ), not when a
target is missed: the table says that.

    .venv/bin/python benchmarks/targets.py [--steps stream-1 peers ...] [--report] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASE_WEEK = ROOT / "data" / "benchmarks" / "dashboard" / "base"
DASHBOARD_EVENTS = 50_000_000
DBT_EVENTS = 10_000_000

#: step -> the benchmark script and its arguments (`--json FILE` is added).
STEPS: dict[str, list[str]] = {
    "stream-1": ["stream.py", "--workers", "1", "--rate", "5000"],
    "stream-2": ["stream.py", "--workers", "2", "--rate", "5000"],
    "stream-4": ["stream.py", "--workers", "4", "--latency-seconds", "0"],
    "peers": ["peers.py"],
    "dbt": ["dbt_floor.py", "--events", str(DBT_EVENTS), "--base", str(BASE_WEEK)],
    "dashboard": ["dashboard.py", "--events", str(DASHBOARD_EVENTS), "--repeat", "3", "--rebuild"],
}


@dataclass
class Row:
    """One line of the table: a target, what was measured, and whether it is met."""

    area: str
    target: str
    measured: str
    met: bool | None  # None: no target (a figure to describe), or not measured


Figures = dict[str, dict]


def run_steps(steps: list[str], out: Path) -> list[str]:
    """Run each step's benchmark (output to the console), its figures to `out`; failed steps."""
    failed = []
    for step in steps:
        started = time.perf_counter()
        script, *arguments = STEPS[step]
        result_file = out / f"{step}.json"
        result_file.unlink(missing_ok=True)
        print(f"\n=== {step}: {script} {' '.join(arguments)}", flush=True)
        command = [sys.executable, str(HERE / script), *arguments, "--json", str(result_file)]
        status = subprocess.run(command, cwd=ROOT).returncode
        minutes = (time.perf_counter() - started) / 60
        print(f"=== {step}: exit {status}, {minutes:.1f} min", flush=True)
        if status != 0:
            failed.append(step)
    return failed


def load(out: Path) -> Figures:
    """The figures of every step measured so far (missing steps are left out)."""
    found = {}
    for step in STEPS:
        path = out / f"{step}.json"
        if path.exists():
            found[step] = json.loads(path.read_text())
    return found


def events_per_s(value: float) -> str:
    """A rate as the table shows it: `6,661 events/s`."""
    return f"{value:,.0f} events/s"


def in_millions(events: int) -> str:
    """A lake's size as the benchmarks name it: 10,016,292 events -> 10M."""
    return f"{round(events, -5) / 1e6:g}M"


def streaming(figures: Figures) -> list[Row]:
    """Issue 8.1: ParkFlow against quixstreams, throughput, latency, memory."""
    rows = []
    peers = figures.get("peers")
    if peers:
        faust = peers["contenders"].get("faust")
        quix = peers["contenders"].get("quixstreams")
        ratio = peers.get("faust_vs_quixstreams")
        if faust and quix and ratio is not None:
            measured = (
                f"{ratio:.2f}x ({events_per_s(faust['events_per_s'])} vs "
                f"{quix['events_per_s']:,.0f}; CPU per 100K events {faust['cpu_s_per_100k']:.1f}"
                f" s vs {quix['cpu_s_per_100k']:.1f} s)"
            )
            rows.append(Row("streaming", "ParkFlow >= 1.2x quixstreams", measured, ratio >= 1.2))
        identical = all(c["sessions_identical"] for c in peers["contenders"].values())
        names = ", ".join(peers["contenders"])
        measured = f"{names}: {'identical' if identical else 'DIFFER (see the peers output)'}"
        rows.append(Row("streaming", "identical sessions", measured, identical))
    for step, label in (("stream-1", "1 worker"), ("stream-2", "2 workers")):
        if stream := figures.get(step):
            rate = stream["events_per_s"]
            rows.append(
                Row("streaming", f">= 10,000 events/s, {label}", events_per_s(rate), rate >= 1e4)
            )
    for step, label in (("stream-1", "1 worker"), ("stream-2", "2 workers")):
        latency = (figures.get(step) or {}).get("latency")
        if latency:
            p99 = latency["p99_s"]
            measured = (
                f"p50 {latency['p50_s'] * 1000:,.0f} / p99 {p99 * 1000:,.0f} ms at "
                f"{latency['rate']:,.0f} payloads/s"
            )
            rows.append(
                Row("streaming", f"p99 <= 500 ms at 5,000/s, {label}", measured, p99 <= 0.5)
            )
    if peers and (faust := peers["contenders"].get("faust")) and faust["latency"]["p99_s"]:
        latency = faust["latency"]
        measured = (
            f"p50 {latency['p50_s'] * 1000:,.0f} / p99 {latency['p99_s'] * 1000:,.0f} ms per "
            f"session at {latency['rate']:,.0f} payloads/s"
        )
        rows.append(
            Row("streaming", "p99 <= 500 ms at 5,000/s, peers' run", measured,
                latency["p99_s"] <= 0.5)
        )  # fmt: skip
    rss = [figures["stream-1"]["peak_rss_mib"]] if "stream-1" in figures else []
    if peers and "faust" in peers["contenders"]:
        rss.append(peers["contenders"]["faust"]["peak_rss_mib"])
    if rss:
        rows.append(
            Row("streaming", "worker RSS <= 1 GiB", f"{max(rss):,.0f} MiB", max(rss) <= 1024)
        )
    return rows


def scale_out(figures: Figures) -> list[Row]:
    """Issue 8.2: the curve over 1, 2 and 4 workers (no target; RESULTS.md says what bounds it)."""
    points = [
        f"{figures[step]['workers']}: {figures[step]['events_per_s']:,.0f}"
        for step in ("stream-1", "stream-2", "stream-4")
        if step in figures
    ]
    if not points:
        return []
    return [Row("scale-out", "events/s by workers", "; ".join(points), None)]


def batch(figures: Figures) -> list[Row]:
    """Issue 8.3: the 10M builds against the floor, and the 50M build's memory."""
    rows = []
    same = {True: "yes, every table", False: "NO (see the dbt output)"}
    dbt = figures.get("dbt")
    for size in (dbt or {}).get("sizes", []):
        full, hour = size["full"], size["incremental"]
        millions = in_millions(size["events"])
        seconds = full["dbt"]["seconds"]
        rows.append(
            Row("batch", f"{millions} full build <= 45 s", f"{seconds:.1f} s", seconds <= 45)
        )
        seconds = hour["dbt"]["seconds"]
        measured = f"{seconds:.1f} s ({hour['dbt-no-tests']['seconds']:.1f} s without tests)"
        rows.append(Row("batch", f"{millions} incremental hour <= 5 s", measured, seconds <= 5))
        for label, phase in (("full", full), ("incremental hour", hour)):
            ratio = phase["dbt"]["seconds"] / phase["floor"]["seconds"]
            measured = f"{ratio:.2f}x (floor {phase['floor']['seconds']:.1f} s)"
            rows.append(
                Row("batch", f"{millions} {label}: dbt <= 1.5x floor", measured, ratio <= 1.5)
            )
        rows.append(
            Row("batch", f"{millions}: dbt's marts equal the floor's", same[size["same_marts"]],
                size["same_marts"])
        )  # fmt: skip
    built = (figures.get("dashboard") or {}).get("built") or {}
    if built.get("dbt_peak_rss_gib") is not None:
        peak = built["dbt_peak_rss_gib"]
        measured = (
            f"{peak:.2f} GiB (full build of {built['event_rows']:,} events: "
            f"{built['dbt_build_seconds']:.0f} s)"
        )
        label = f"{in_millions(built['target_events'])}: dbt peak RSS <= 8 GiB"
        rows.append(Row("batch", label, measured, peak <= 8))
    return rows


def dashboards(figures: Figures) -> list[Row]:
    """Issue 8.4: per page at 50M, cold medians; one row per target, the pages that miss it."""
    dashboard = figures.get("dashboard") or {}
    pages = dashboard.get("pages")
    if not pages:
        return []
    millions = in_millions(dashboard["built"]["target_events"])
    rows = []
    for key, label, limit in (
        ("first_render_ms", "first render <= 1.5 s", 1500),
        ("filter_change_ms", "filter change <= 300 ms", 300),
    ):
        timed = {slug: page[key] for slug, page in pages.items() if page[key] is not None}
        missed = {slug: ms for slug, ms in timed.items() if ms > limit}
        measured = f"{len(timed) - len(missed)} of {len(timed)} pages met"
        if missed:
            measured += "; missed: " + ", ".join(f"{s} {ms:,.0f} ms" for s, ms in missed.items())
        else:
            measured += f"; slowest {max(timed.values()):,.0f} ms"
        rows.append(Row("dashboards", f"{millions}: {label}", measured, not missed))
    return rows


SECTIONS: list[Callable[[Figures], list[Row]]] = [streaming, scale_out, batch, dashboards]


def verdict(met: bool | None) -> str:
    """`met`, `not met`, or a dash for a figure without a target."""
    return "-" if met is None else ("met" if met else "not met")


def markdown(rows: list[Row]) -> str:
    """The table as Markdown, for RESULTS.md."""
    lines = ["| area | target | measured | |", "|---|---|---|---|"]
    lines += [f"| {r.area} | {r.target} | {r.measured} | {verdict(r.met)} |" for r in rows]
    return "\n".join(lines)


def print_table(rows: list[Row]) -> None:
    """The table on the console, with colours."""
    console = Console(width=max(Console().width, 160))
    table = Table(title="Issue 8: performance targets")
    for column in ("area", "target", "measured", ""):
        table.add_column(column)
    colours = {True: "[green]met[/]", False: "[red]not met[/]", None: "-"}
    for row in rows:
        table.add_row(row.area, row.target, row.measured, colours[row.met])
    console.print(table)
    console.print(
        f"{date.today()}, {platform.node()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; what bounds each target not met: benchmarks/RESULTS.md"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", nargs="+", choices=list(STEPS), default=list(STEPS))
    parser.add_argument("--report", action="store_true", help="print the table, measure nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "benchmarks" / "targets")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    started = time.perf_counter()
    if not args.report:
        failed = run_steps(args.steps, args.out)
    rows = [row for section in SECTIONS for row in section(load(args.out))]
    print()
    print_table(rows)
    (args.out / "targets.md").write_text(markdown(rows) + "\n")
    if not args.report:
        print(f"measured in {(time.perf_counter() - started) / 60:.1f} min")
    if failed:
        print(f"failed steps: {', '.join(failed)} (their output above)")
        sys.exit(1)


if __name__ == "__main__":
    main()
