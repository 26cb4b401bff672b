"""dbt at scale: a full `dbt build` over lakes of about 1M and 10M events, then one more hour.

For each size in `--events`:

1. lake: one simulated week at the six catalogue facilities (`parkflow.batch.build_lake`,
   about 300K event rows, ~65 s, built once and reused for every size) is replicated into
   the weeks before it until the size is reached: copy k moves every timestamp k weeks back
   and suffixes every id (`-w<k>`) so ids stay unique, and lands in its own `date=`
   partitions (the base week stays the newest, so the lake never reaches the future);
2. full build: `dbt build` on an empty warehouse;
3. incremental hour: the newest hour of every lake table (by the column each staging model
   reads incrementally) is copied one hour later with `-h1` ids, then `dbt build` again.

Each dbt run is a child process; its peak RSS comes from `wait4`'s rusage of that child.
dbt writes its target and logs inside the temporary data dir, so `dbt_project/target` is
not touched. Targets (issue 4): full build of 10M events <= 60 s, incremental <= 10 s.

    .venv/bin/python benchmarks/dbt_scale.py [--events 1000000 10000000] [--keep]
        [--base DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestration.project import SCHEDULED_BUILD_FLAGS  # noqa: E402
from parkflow.lake import TABLES, raw_dir, table_dir, table_files  # noqa: E402

PROJECT = ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
#: The week that is simulated once and replicated: Monday 7 September 2026, six facilities.
BASE_START = datetime(2026, 9, 7, tzinfo=UTC)
BASE_DAYS = 7
BASE_FACILITIES = 6
BASE_SEED = 7
PLATE_KEY = b"dbt-scale-benchmark-plate-key-01"
WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)
#: Columns holding ids that must stay unique in a copy (the rest is copied as it is).
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": ("event_id", "transaction_id"),
    "sessions": ("session_id", "entry_event_id", "exit_event_id"),
    "anomalies": ("anomaly_id", "event_id"),
    "alerts": ("alert_id",),
    "deadletter": ("dead_letter_id",),
}
#: The column staging reads a table incrementally by: the hour appended is the newest by it.
NEWEST_BY: dict[str, str] = {
    "events": "ts",
    "sessions": "updated_at",
    "anomalies": "ts",
    "alerts": "ts",
    "deadletter": "received_at",
}


@dataclass
class DbtRun:
    """One `dbt build`: wall time, peak RSS of the dbt process, and how its nodes ended."""

    seconds: float
    peak_rss_bytes: int
    statuses: dict[str, int]
    slowest: list[tuple[str, float]]

    @property
    def ok(self) -> bool:
        return set(self.statuses) <= {"success", "pass"}


# --- the lake -----------------------------------------------------------------------------------


def _build_base_week(data_dir: str) -> int:
    """Simulate the base week into `data_dir` (run in a child process: it needs GBs of RAM)."""
    from parkflow.batch import build_lake
    from parkflow.simulator import SimulationConfig

    config = SimulationConfig(
        start=BASE_START, days=BASE_DAYS, facilities=BASE_FACILITIES, seed=BASE_SEED
    )
    return build_lake(Path(data_dir), config, plate_key=PLATE_KEY).rows["events"]


def base_week(folder: Path) -> Path:
    """A data dir holding the simulated base week (built there unless it already is)."""
    if not any(raw_dir(folder).glob("events/date=*/*.parquet")):
        started = time.perf_counter()
        print(f"simulating the base week into {folder} ...", flush=True)
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            events = pool.submit(_build_base_week, str(folder)).result()
        print(f"  {events:,} event rows in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


def base_event_rows(base: Path) -> int:
    """Event rows in the simulated base week."""
    return pq.ParquetDataset(table_dir(base, "events")).read(["event_id"]).num_rows


def weeks_for(target_events: int, base_events: int) -> int:
    """How many copies of the base week make about `target_events` events."""
    return max(1, round(target_events / base_events))


def shifted(table: pa.Table, name: str, delta: timedelta, suffix: str) -> pa.Table:
    """`table` with every timestamp moved by `delta` and every id column suffixed."""
    columns = []
    for field in table.schema:
        column = table[field.name]
        if pa.types.is_timestamp(field.type):
            column = pc.add(column, pa.scalar(delta, pa.duration("us")))
        elif field.name in ID_COLUMNS[name]:
            column = pc.binary_join_element_wise(column, suffix, "")
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=table.schema)


def write_by_date(data_dir: Path, name: str, table: pa.Table, file_name: str) -> None:
    """Write `table` into the date partitions of its partition column (UTC dates)."""
    _, date_column = TABLES[name]
    dates = pc.strftime(table[date_column], format="%Y-%m-%d")
    for day in pc.unique(dates).to_pylist():
        rows = table.filter(pc.equal(dates, day))
        folder = table_dir(data_dir, name) / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(rows, folder / file_name, compression="zstd")


def replicate(base: Path, data_dir: Path, weeks: int) -> int:
    """A lake of `weeks` copies of the base week, ending with it; event rows written."""
    events = 0
    for name in TABLES:
        table_dir(data_dir, name).mkdir(parents=True, exist_ok=True)
        for path in table_files(base, name):
            table = pq.read_table(path, partitioning=None)
            for k in range(weeks):
                copy = table if k == 0 else shifted(table, name, -k * WEEK, f"-w{k}")
                write_by_date(data_dir, name, copy, f"w{k}-{path.name}")
                events += copy.num_rows if name == "events" else 0
    return events


def append_hour(data_dir: Path) -> int:
    """Copy the newest hour of every table one hour later (new ids); event rows written."""
    events = 0
    for name in TABLES:
        files = table_files(data_dir, name)
        if not files:
            continue
        column = NEWEST_BY[name]
        newest_day = max(path.parent.name for path in files)
        previous = (datetime.strptime(newest_day, "date=%Y-%m-%d") - timedelta(days=1)).strftime(
            "date=%Y-%m-%d"
        )
        recent = [p for p in files if p.parent.name >= previous]  # the newest hour is in there
        table = pa.concat_tables(pq.read_table(p, partitioning=None) for p in recent)
        newest = pc.max(table[column])
        if not newest.is_valid:
            continue
        since = pa.scalar(newest.as_py() - HOUR, table.schema.field(column).type)
        hour = table.filter(pc.greater(table[column], since))
        write_by_date(data_dir, name, shifted(hour, name, HOUR, "-h1"), "appended-hour.parquet")
        events += hour.num_rows if name == "events" else 0
    return events


# --- dbt ------------------------------------------------------------------------------------------


def dbt_env(data_dir: Path) -> dict[str, str]:
    """The environment of a dbt process on `data_dir` (its lake and warehouse.duckdb)."""
    return {
        **os.environ,
        "PARKFLOW_DATA_DIR": str(data_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_command(verb: str, data_dir: Path, target: Path) -> list[str]:
    """`dbt <verb>` on the project, with its target and logs in `target` and `data_dir`."""
    return [
        str(DBT), verb, "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
        "--target-path", str(target), "--log-path", str(data_dir / "dbt-logs"),
    ]  # fmt: skip


def dbt_build(data_dir: Path, *extra_flags: str) -> DbtRun:
    """The scheduled refresh's `dbt build` on the warehouse in `data_dir`, timed, with the dbt
    process's peak RSS (unit tests left out, as in Dagster's runs; `extra_flags` appended)."""
    target = data_dir / "dbt-target"
    env = dbt_env(data_dir)
    command = [*dbt_command("build", data_dir, target), *SCHEDULED_BUILD_FLAGS, *extra_flags]
    log = data_dir / "dbt-build.out"
    with log.open("ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    results = json.loads((target / "run_results.json").read_text())["results"]
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    timed = sorted(((r["unique_id"], r["execution_time"]) for r in results), key=lambda x: -x[1])
    if process.returncode != 0:
        print(f"  dbt build exited {process.returncode}: see {log}", flush=True)
    return DbtRun(seconds, usage.ru_maxrss * 1024, statuses, timed[:8])


# --- main -----------------------------------------------------------------------------------------


def run_size(base: Path, work: Path, target_events: int, base_events: int) -> dict:
    """Lake of about `target_events`, full build, one more hour, incremental build."""
    weeks = weeks_for(target_events, base_events)
    data_dir = work / f"lake-{target_events}"
    started = time.perf_counter()
    events = replicate(base, data_dir, weeks)
    print(
        f"{target_events:,}: {weeks} week(s), {events:,} event rows written in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    full = dbt_build(data_dir)
    added = append_hour(data_dir)
    incremental = dbt_build(data_dir)
    for label, run in (("full", full), ("incremental", incremental)):
        print(f"  {label}: {run.seconds:.1f} s, nodes {run.statuses}; slowest:", flush=True)
        for node, seconds in run.slowest:
            print(f"    {seconds:6.2f} s  {node}", flush=True)
    return {
        "events": events,
        "weeks": weeks,
        "appended_events": added,
        "full": full,
        "incremental": incremental,
        "data_dir": data_dir,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument(
        "--base", type=Path, help="data dir of the simulated base week (built there if empty)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parkflow-dbt-scale-"))
    try:
        base = base_week(args.base or work / "base")
        base_events = base_event_rows(base)
        rows = []
        for size in args.events:
            rows.append(run_size(base, work, size, base_events))
            if not args.keep:
                shutil.rmtree(rows[-1]["data_dir"], ignore_errors=True)
        print()
        print(f"{'events':>12} {'full build s':>13} {'incremental s':>14} {'peak RSS GiB':>13}")
        for row in rows:
            full, incremental = row["full"], row["incremental"]
            peak = max(full.peak_rss_bytes, incremental.peak_rss_bytes) / 2**30
            flags = "" if full.ok and incremental.ok else "  (some dbt nodes did not pass)"
            print(
                f"{row['events']:>12,} {full.seconds:>13.1f} {incremental.seconds:>14.1f} "
                f"{peak:>13.2f}{flags}"
            )
            print(
                f"{'':>12} peak RSS full {full.peak_rss_bytes / 2**30:.2f} GiB, incremental "
                f"{incremental.peak_rss_bytes / 2**30:.2f} GiB; hour appended: "
                f"{row['appended_events']:,} events"
            )
    finally:
        if args.keep:
            print(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
