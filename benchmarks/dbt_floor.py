"""dbt against its floor: the same marts computed by one DuckDB SQL script, without dbt.

The floor is what the warehouse costs without dbt: the SQL dbt compiles for the project's
seeds and models, run in topological order as one script in one `duckdb` connection. The
script is generated from the dbt project (`dbt compile`, then `manifest.json`), never copied
by hand, so it stays the same marts as the project evolves:

- seeds: `create or replace table <seed> as select * from read_csv(<csv>, types = <column_types>)`;
- models: `create or replace view|table <model> as (<compiled_code>)` per materialization
  (incremental models as tables in the full run);
- incremental hour: the project is compiled again against the floor's own warehouse, so
  `is_incremental()` holds, and the incremental models run as dbt-duckdb does: the new rows
  into a temporary table, then a delete of the rows whose `unique_key` they hold
  (delete+insert: `where key in (...)` for one key, `using` for several) and
  `insert ... by name` (append). Every other table model is rebuilt as in the full run; views
  and seeds are left alone (their SQL does not change).

For each size in `--events`, on a lake built by `dbt_scale.py`'s functions (imported, not
copied), in this order: `dbt build` (the scheduled refresh's, tests included), `dbt build`
without data tests (like for like: the floor runs no test), the floor script; then one more
hour is appended and the three run again incrementally. Each of the three has its own data dir
(`dbt/`, `dbt-no-tests/`, `floor/`, each with a symlink to the one lake) and so its own
`warehouse.duckdb`. The script is written to `floor/floor.sql` (`floor/floor-incremental.sql`)
and starts with the DuckDB `settings` of `profiles.yml`; the profile's `threads` is dbt's
concurrency, not DuckDB's, so DuckDB keeps its default threads and memory_limit, as under dbt.
It runs in a spawned child process, each statement timed; its peak RSS is that process's
`VmHWM`. dbt's is `wait4`'s `ru_maxrss`, which Linux never reports below the parent's own
peak at the launch: this script's peak is printed too. dbt's time is split, from its
run_results.json, into before the first node (start-up, parse), the nodes, and after them.

After each phase every table the floor built (seeds, incremental and table models) is compared
with dbt's: columns and types, row count, and a sum of row hashes (plus one per column, to name
the columns that differ), with doubles rounded to 6 decimals and the run-metadata columns
`dbt_*` left out. When only doubles differ, the rows are paired in sorted order and compared
within 1e-9 (a sum in another order differs in its last bits). Any mismatch is reported and
makes the exit status 1.

    .venv/bin/python benchmarks/dbt_floor.py [--events 1000000] [--keep] [--base DIR]
        [--json FILE]

`--json` also writes the figures to FILE (`targets.py` reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from graphlib import TopologicalSorter
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

import duckdb
import jinja2
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is not a package

from dbt_scale import (
    PROJECT,
    ROOT,
    DbtRun,
    append_hour,
    base_event_rows,
    base_week,
    dbt_build,
    dbt_command,
    dbt_env,
    replicate,
    weeks_for,
)

#: The three contenders, each in its own data dir under the size's folder.
RUN_DIRS = ("dbt", "dbt-no-tests", "floor")
#: `dbt build` left out data tests as well (on top of the unit tests the schedule leaves out).
NO_TESTS = ("--exclude-resource-type", "test")
#: Columns that record the run rather than the data (`fct_parking_sessions.dbt_loaded_at`).
RUN_METADATA_PREFIX = "dbt_"
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
#: Doubles equal within this (relative, at least absolute) are the same: a sum in another
#: order (two threads, another plan) differs in its last bits, and rounding cannot hide that.
FLOAT_TOLERANCE = 1e-9
SLOWEST = 8
T = TypeVar("T")
#: The dbt project's name (its nodes' package) and the profile it runs with.
PROJECT_NAME, PROFILE_NAME = (
    yaml.safe_load((PROJECT / "dbt_project.yml").read_text())[key] for key in ("name", "profile")
)


@dataclass
class Statement:
    """One statement of the floor script and the node it builds."""

    label: str
    sql: str


@dataclass
class FloorRun:
    """The floor script, run: wall time from connect to close, per statement, and peak RSS."""

    seconds: float
    timings: list[tuple[str, float]]
    peak_rss_bytes: int

    @property
    def slowest(self) -> list[tuple[str, float]]:
        return sorted(self.timings, key=lambda item: -item[1])[:SLOWEST]


@dataclass
class DbtSplit:
    """Where a `dbt build`'s wall time went (from its run_results.json)."""

    before_nodes: float  # process start to the first node: imports, parse, connection, cache
    nodes: float  # first node started to last node completed (two threads)
    after_nodes: float  # last node to process exit: artifacts, close
    test_seconds: float  # execution time summed over data tests (node-seconds)


@dataclass
class Check:
    """One table in the dbt and the floor warehouse: rows, checksum and what differs."""

    table: str
    dbt_rows: int | None
    floor_rows: int | None
    problems: list[str]
    notes: list[str] = field(default_factory=list)


# --- the floor script ---------------------------------------------------------------------------


def dbt_compile(data_dir: Path, target: Path) -> dict:
    """`dbt compile` of the models against the warehouse in `data_dir`; its manifest."""
    command = [*dbt_command("compile", data_dir, target), "--select", "resource_type:model"]
    with (data_dir / "dbt-compile.out").open("ab") as out:
        subprocess.run(command, env=dbt_env(data_dir), cwd=ROOT, stdout=out, stderr=out, check=True)
    return json.loads((target / "manifest.json").read_text())


def project_nodes(manifest: dict) -> list[dict]:
    """The project's seeds and models in topological order (by `depends_on.nodes`)."""
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("seed", "model") and node["package_name"] == PROJECT_NAME
    }
    graph = TopologicalSorter()
    for uid in sorted(nodes):
        parents = nodes[uid]["depends_on"].get("nodes", [])
        graph.add(uid, *sorted(p for p in parents if p in nodes))
    return [nodes[uid] for uid in graph.static_order()]


def seed_sql(node: dict) -> str:
    """The statement that loads a seed's CSV with the column types the project gives it."""
    csv = PROJECT / node["original_file_path"]
    types = ", ".join(f"'{k}': '{v}'" for k, v in node["config"].get("column_types", {}).items())
    delimiter = node["config"].get("delimiter", ",")
    return (
        f"create or replace table {node['relation_name']} as select * from read_csv("
        f"'{csv}', header = true, delim = '{delimiter}', types = {{{types}}})"
    )


def model_sql(node: dict, kind: str) -> str:
    """`create or replace <kind> <model> as (<compiled code>)`."""
    return f"create or replace {kind} {node['relation_name']} as (\n{node['compiled_code']}\n)"


def incremental_sql(node: dict) -> list[Statement]:
    """An incremental model's run as dbt-duckdb does it: new rows, delete+insert or append."""
    config, relation, name = node["config"], node["relation_name"], node["name"]
    new = f'"{name}__floor_new"'
    strategy = config.get("incremental_strategy") or "append"
    code = node["compiled_code"]
    statements = [Statement(f"{name}: new rows", f"create temp table {new} as (\n{code}\n)")]
    if strategy == "delete+insert":
        keys = config["unique_key"]
        if isinstance(keys, str):  # one key: a semi-join, as dbt-duckdb writes it
            delete = f'delete from {relation} where "{keys}" in (select "{keys}" from {new})'
        else:
            match = " and ".join(f'{relation}."{key}" = {new}."{key}"' for key in keys)
            delete = f"delete from {relation} using {new} where {match}"
        statements.append(Statement(f"{name}: delete", delete))
    elif strategy != "append":
        raise NotImplementedError(f"{node['unique_id']}: incremental_strategy {strategy}")
    return [
        *statements,
        Statement(f"{name}: insert", f"insert into {relation} by name select * from {new}"),
        Statement(f"{name}: drop new rows", f"drop table {new}"),
    ]


def node_statements(node: dict, incremental: bool) -> list[Statement]:
    """The statements building one node, in a full run or in an incremental one."""
    materialized, name = node["config"]["materialized"], node["name"]
    if materialized == "seed":
        return [] if incremental else [Statement(name, seed_sql(node))]
    if materialized == "view":
        return [] if incremental else [Statement(name, model_sql(node, "view"))]
    if materialized == "table" or (materialized == "incremental" and not incremental):
        return [Statement(name, model_sql(node, "table"))]
    if materialized == "incremental":
        return incremental_sql(node)
    if materialized == "ephemeral":
        return []  # compiled into the code of the models that use it
    raise NotImplementedError(f"{node['unique_id']}: materialized={materialized}")


def floor_script(nodes: list[dict], incremental: bool) -> list[Statement]:
    """The whole floor: the profile's settings, schemas, every node in order, then a checkpoint
    (timed too: dbt-duckdb's writes are in the file by the end of its run as well)."""
    script = [
        Statement("settings", f"set {name} = '{value}'")
        for name, value in profile_settings().items()
    ]
    schemas = sorted({f'"{n["database"]}"."{n["schema"]}"' for n in nodes})
    script += [Statement("schema", f"create schema if not exists {s}") for s in schemas]
    for node in nodes:
        script += node_statements(node, incremental)
    return [*script, Statement("checkpoint", "checkpoint")]


def write_script(script: list[Statement], path: Path) -> None:
    """The script as a SQL file a reader can follow (and run: `duckdb warehouse.duckdb < it`)."""
    parts = [f"-- {statement.label}\n{statement.sql};\n" for statement in script]
    path.write_text("\n".join(parts))


def profile_settings() -> dict[str, object]:
    """The DuckDB `settings` of the project's profile (profiles.yml, default target)."""
    profiles = yaml.safe_load((PROJECT / "profiles.yml").read_text())
    profile = profiles[PROFILE_NAME]
    settings = profile["outputs"][profile["target"]].get("settings") or {}
    # values may read the environment as dbt renders them: "{{ env_var('X', 'default') }}"
    return {
        name: jinja2.Template(value).render(env_var=os.environ.get)
        if isinstance(value, str)
        else value
        for name, value in settings.items()
    }


def own_peak_rss() -> int:
    """This process's peak RSS since its exec (`VmHWM`; `ru_maxrss` would also count the
    parent's peak, which Linux carries over a fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_script(warehouse: str, script: list[Statement]) -> FloorRun:
    """Run the script in one connection to `warehouse`, each statement timed."""
    started = time.perf_counter()
    timings = []
    with duckdb.connect(warehouse) as con:
        con.execute("set enable_progress_bar = false")  # a client setting: not in the script
        for statement in script:
            began = time.perf_counter()
            con.execute(statement.sql)
            timings.append((statement.label, time.perf_counter() - began))
    return FloorRun(time.perf_counter() - started, timings, own_peak_rss())


def in_child(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in a fresh (spawned) process: its memory is its own, and this one's
    peak RSS stays low (a child's peak from `wait4` is never below its parent's)."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def floor(data_dir: Path, incremental: bool) -> FloorRun:
    """Compile the project against `data_dir`, write the floor script there and run it."""
    target = data_dir / ("compile-incremental" if incremental else "compile-full")
    nodes = project_nodes(dbt_compile(data_dir, target))
    warehouse = data_dir / "warehouse.duckdb"
    if not incremental:  # `dbt compile` opened (so created) it: the floor starts from nothing
        for path in (warehouse, warehouse.with_suffix(".duckdb.wal")):
            path.unlink(missing_ok=True)
    script = floor_script(nodes, incremental)
    write_script(script, data_dir / ("floor-incremental.sql" if incremental else "floor.sql"))
    return in_child(run_script, str(warehouse), script)


# --- same marts? ------------------------------------------------------------------------------


def built_tables(data_dir: Path) -> list[str]:
    """The tables (seeds, table and incremental models) in the floor's full-run manifest."""
    manifest = json.loads((data_dir / "compile-full" / "manifest.json").read_text())
    return [
        node["name"]
        for node in project_nodes(manifest)
        if node["config"]["materialized"] in ("seed", "table", "incremental")
    ]


def columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[tuple[str, str]]:
    """(name, type) of a table's columns, in order."""
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = 'main' and table_name = ? "
        "order by ordinal_position",
        [catalog, table],
    ).fetchall()


def fingerprint(
    con: duckdb.DuckDBPyConnection, catalog: str, table: str, compared: list[tuple[str, str]]
) -> tuple[int, int, list[int]]:
    """Row count, sum of row hashes and per-column sums of hashes (doubles rounded)."""
    expressions = [
        f'round("{name}", 6)' if kind in FLOAT_TYPES else f'"{name}"' for name, kind in compared
    ]
    per_column = ", ".join(f"coalesce(sum(hash({e})), 0)" for e in expressions)
    row = con.execute(
        f"select count(*), coalesce(sum(hash({', '.join(expressions)})), 0), {per_column} "
        f'from "{catalog}".main."{table}"'
    ).fetchone()
    return row[0], row[1], list(row[2:])


def compare_table(con: duckdb.DuckDBPyConnection, table: str) -> Check:
    """One table of the dbt warehouse (`dbt`) against the same of the floor's (`floor`)."""
    schemas = {side: columns(con, side, table) for side in ("dbt", "floor")}
    if not schemas["dbt"] or not schemas["floor"]:
        missing = [side for side, found in schemas.items() if not found]
        return Check(table, None, None, [f"missing in {' and '.join(missing)}"])
    problems = []
    if schemas["dbt"] != schemas["floor"]:
        problems.append(f"columns differ: dbt {schemas['dbt']} / floor {schemas['floor']}")
    compared = [c for c in schemas["dbt"] if not c[0].startswith(RUN_METADATA_PREFIX)]
    compared = [c for c in compared if c in schemas["floor"]]
    dbt_rows, dbt_sum, dbt_columns = fingerprint(con, "dbt", table, compared)
    floor_rows, floor_sum, floor_columns = fingerprint(con, "floor", table, compared)
    if dbt_rows != floor_rows:
        problems.append(f"rows differ: dbt {dbt_rows:,} / floor {floor_rows:,}")
    if dbt_sum == floor_sum:
        return Check(table, dbt_rows, floor_rows, problems)
    pairs = zip(compared, dbt_columns, floor_columns, strict=True)
    differing = [column for column, in_dbt, in_floor in pairs if in_dbt != in_floor]
    names = ", ".join(name for name, _ in differing) or "none alone"
    floats_only = differing and all(kind in FLOAT_TYPES for _, kind in differing)
    if dbt_rows == floor_rows and floats_only and not float_mismatches(con, table, compared):
        note = f"checksum of {names} differs, but every value is within {FLOAT_TOLERANCE:g}"
        return Check(table, dbt_rows, floor_rows, problems, [note])
    problems.append(f"checksum differs; columns: {names}")
    return Check(table, dbt_rows, floor_rows, problems)


def float_mismatches(
    con: duckdb.DuckDBPyConnection, table: str, compared: list[tuple[str, str]]
) -> int:
    """Rows that differ by more than float noise, pairing the rows of the two tables in the
    order of all their columns (for when only doubles' checksums differ)."""
    order = ", ".join(f'"{name}"' for name, _ in compared)
    same = []
    for name, kind in compared:
        in_dbt, in_floor = f'd."{name}"', f'f."{name}"'
        if kind in FLOAT_TYPES:
            close = f"abs({in_dbt} - {in_floor}) <= {FLOAT_TOLERANCE} * greatest(1, abs({in_dbt}))"
            same.append(f"coalesce({close}, {in_dbt} is null and {in_floor} is null)")
        else:
            same.append(f"{in_dbt} is not distinct from {in_floor}")
    numbered = 'select row_number() over (order by {order}) as n, * from {side}.main."{table}"'
    return con.execute(
        f"with d as ({numbered.format(order=order, side='dbt', table=table)}), "
        f"f as ({numbered.format(order=order, side='floor', table=table)}) "
        f"select count(*) from d join f using (n) where not ({' and '.join(same)})"
    ).fetchone()[0]


def same_marts(dbt_dir: Path, floor_dir: Path) -> list[Check]:
    """Every table the floor built, checked against dbt's warehouse."""
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        for alias, folder in (("dbt", dbt_dir), ("floor", floor_dir)):
            con.execute(f"attach '{folder / 'warehouse.duckdb'}' as {alias} (read_only)")
        return [compare_table(con, table) for table in built_tables(floor_dir)]


def report_checks(label: str, checks: list[Check]) -> bool:
    """Print the verdict of one comparison; True when every table is the same."""
    bad = [check for check in checks if check.problems]
    rows = sum(check.dbt_rows or 0 for check in checks)
    for check in checks:
        for note in check.notes:
            print(f"    {check.table}: {note}", flush=True)
    if not bad:
        print(f"  same marts ({label}): all {len(checks)} tables equal, {rows:,} rows", flush=True)
        return True
    print(f"  MISMATCH ({label}): {len(bad)} of {len(checks)} tables differ", flush=True)
    for check in bad:
        for problem in check.problems:
            print(f"    {check.table}: {problem}", flush=True)
    return False


# --- main -----------------------------------------------------------------------------------------


def run_dirs(lake_dir: Path) -> dict[str, Path]:
    """One data dir per contender under `lake_dir`, each seeing its lake through a symlink."""
    dirs = {}
    for name in RUN_DIRS:
        folder = lake_dir / name
        folder.mkdir()
        (folder / "lake").symlink_to(lake_dir / "lake", target_is_directory=True)
        dirs[name] = folder
    return dirs


def dbt_split(data_dir: Path, launched: datetime, run: DbtRun) -> DbtSplit:
    """Split a `dbt build` launched at `launched` into before, during and after its nodes."""
    results = json.loads((data_dir / "dbt-target" / "run_results.json").read_text())["results"]
    steps = [step for result in results for step in result["timing"]]
    first = min(datetime.fromisoformat(step["started_at"]) for step in steps)
    last = max(datetime.fromisoformat(step["completed_at"]) for step in steps)
    before = (first - launched).total_seconds()
    during = (last - first).total_seconds()
    tests = sum(r["execution_time"] for r in results if r["unique_id"].startswith("test."))
    return DbtSplit(before, during, run.seconds - before - during, tests)


def timed_dbt_build(data_dir: Path, *extra_flags: str) -> tuple[DbtRun, DbtSplit]:
    """`dbt_scale.dbt_build`, and where its time went."""
    launched = datetime.now(UTC)
    run = dbt_build(data_dir, *extra_flags)
    return run, dbt_split(data_dir, launched, run)


def phase(
    dirs: dict[str, Path], incremental: bool
) -> dict[str, tuple[DbtRun | FloorRun, DbtSplit | None]]:
    """dbt build, dbt build without data tests, the floor; one after the other."""
    return {
        "dbt": timed_dbt_build(dirs["dbt"]),
        "dbt-no-tests": timed_dbt_build(dirs["dbt-no-tests"], *NO_TESTS),
        "floor": (floor(dirs["floor"], incremental), None),
    }


def print_phase(label: str, runs: dict[str, tuple[DbtRun | FloorRun, DbtSplit | None]]) -> None:
    """Times, peak RSS, dbt's time split and the slowest nodes or statements of one phase."""
    for name, (run, split) in runs.items():
        detail = ""
        if split is not None:
            detail = (
                f"; before nodes {split.before_nodes:.1f} s, nodes {split.nodes:.1f} s, after "
                f"{split.after_nodes:.1f} s; tests {split.test_seconds:.1f} node-s; {run.statuses}"
            )
        print(
            f"  {label} {name}: {run.seconds:.1f} s, peak RSS "
            f"{run.peak_rss_bytes / 2**30:.2f} GiB{detail}; slowest:",
            flush=True,
        )
        for node, seconds in run.slowest[:SLOWEST]:
            print(f"    {seconds:6.2f} s  {node}", flush=True)


def run_size(base: Path, work: Path, target_events: int, base_events: int) -> dict:
    """Lake of about `target_events`; full phase, check, one more hour, incremental, check."""
    weeks = weeks_for(target_events, base_events)
    folder = work / f"lake-{target_events}"
    started = time.perf_counter()
    events = replicate(base, folder, weeks)
    print(
        f"{target_events:,}: {weeks} week(s), {events:,} event rows written in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    dirs = run_dirs(folder)
    full = phase(dirs, incremental=False)
    print_phase("full", full)
    same = report_checks("full", in_child(same_marts, dirs["dbt"], dirs["floor"]))
    added = append_hour(folder)
    incremental = phase(dirs, incremental=True)
    print_phase("incremental", incremental)
    checks = in_child(same_marts, dirs["dbt"], dirs["floor"])
    same = report_checks("incremental", checks) and same
    return {"events": events, "appended_events": added, "full": full,
            "incremental": incremental, "same": same, "folder": folder}  # fmt: skip


def print_summary(rows: list[dict]) -> None:
    """One line per size and phase: dbt, dbt without tests, the floor and the ratios."""
    print()
    header = f"{'events':>12} {'phase':<12} {'dbt s':>7} {'no tests s':>11} {'floor s':>8}"
    print(f"{header} {'dbt/floor':>10} {'no-tests/floor':>15} {'RSS dbt/floor GiB':>18}")
    for row in rows:
        for label in ("full", "incremental"):
            dbt, bare, base = (row[label][name][0] for name in RUN_DIRS)
            rss = f"{dbt.peak_rss_bytes / 2**30:.2f} / {base.peak_rss_bytes / 2**30:.2f}"
            print(
                f"{row['events']:>12,} {label:<12} {dbt.seconds:>7.1f} {bare.seconds:>11.1f} "
                f"{base.seconds:>8.1f} {dbt.seconds / base.seconds:>9.2f}x "
                f"{bare.seconds / base.seconds:>14.2f}x {rss:>18}"
            )
        verdict = "same marts" if row["same"] else "MARTS DIFFER (see above)"
        print(f"{'':>12} hour appended: {row['appended_events']:,} events; {verdict}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"(this script's own peak RSS: {own:.2f} GiB; dbt's figure, from wait4, is never below it)"
    )


def figures(rows: list[dict]) -> dict:
    """What `--json` writes: per size and phase, seconds and peak RSS of each run."""
    sizes = []
    for row in rows:
        size = {"events": row["events"], "same_marts": row["same"]}
        for label in ("full", "incremental"):
            size[label] = {
                name: {"seconds": run.seconds, "peak_rss_gib": run.peak_rss_bytes / 2**30}
                for name, (run, _) in row[label].items()
            }
        sizes.append(size)
    return {"sizes": sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument(
        "--base", type=Path, help="data dir of the simulated base week (built there if empty)"
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file too")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parkflow-dbt-floor-"))
    rows = []
    try:
        base = base_week(args.base or work / "base")
        base_events = base_event_rows(base)
        for size in args.events:
            rows.append(run_size(base, work, size, base_events))
            if not args.keep:
                shutil.rmtree(rows[-1]["folder"], ignore_errors=True)
        print_summary(rows)
        if args.json:
            args.json.write_text(json.dumps(figures(rows), indent=2))
    finally:
        if args.keep:
            print(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if all(row["same"] for row in rows) else 1)


if __name__ == "__main__":
    main()
