"""Published marts over a lake of about N events, built once and cached for benchmarks.

`published_marts(work, events)` returns a data dir whose `marts/*.parquet` were published from
a warehouse that `dbt build` made over about `events` events. The lake is the simulated week of
`dbt_scale.py` replicated into earlier weeks (the same functions, not a copy of them); the marts
are published as the Dagster serving assets do (`orchestration.publish.publish_table`).

The data dir is kept under `work/events-<N>/` with a `published.json` that records what was
built and a fingerprint of the dbt project: a later call with the same size and unchanged dbt
models reuses it (seconds instead of minutes); a changed dbt project rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is not a package

from dbt_scale import (
    PROJECT,
    ROOT,
    base_event_rows,
    base_week,
    dbt_build,
    replicate,
    weeks_for,
)

MARKER = "published.json"
#: What decides the marts' content besides the lake (target/, logs/ and packages are not).
DBT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds")


def dbt_fingerprint(project: Path = PROJECT) -> str:
    """A hash of the dbt project's models, macros, seeds and settings."""
    digest = hashlib.sha256()
    for name in DBT_INPUTS:
        root = project / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(project)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def publish_all(data_dir: Path) -> dict[str, int]:
    """Every mart of the warehouse in `data_dir` to `data_dir/marts/` (as Dagster publishes)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from orchestration.defs.dbt import mart_names, publish_order
    from orchestration.publish import publish_table

    rows = {}
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        for mart in mart_names():
            rows[mart] = publish_table(con, mart, data_dir / "marts", publish_order(mart))[1]
    return rows


def cached(data_dir: Path, events: int) -> dict | None:
    """What was built in `data_dir`, when it is complete and still matches the dbt project."""
    try:
        built = json.loads((data_dir / MARKER).read_text())
    except (FileNotFoundError, ValueError):
        return None
    if built.get("target_events") != events or built.get("dbt") != dbt_fingerprint():
        return None
    return built


def published_marts(work: Path, events: int, rebuild: bool = False) -> tuple[Path, dict]:
    """A data dir with marts published from about `events` events, and what was built."""
    data_dir = work / f"events-{events}"
    built = None if rebuild else cached(data_dir, events)
    if built is not None:
        return data_dir, built
    shutil.rmtree(data_dir, ignore_errors=True)  # a half-built or outdated dir
    base = base_week(work / "base")
    weeks = weeks_for(events, base_event_rows(base))
    started = time.perf_counter()
    event_rows = replicate(base, data_dir, weeks)
    print(f"lake: {weeks} week(s), {event_rows:,} event rows", flush=True)
    run = dbt_build(data_dir)
    print(
        f"dbt build: {run.seconds:.0f} s, peak RSS {run.peak_rss_bytes / 2**30:.2f} GiB, "
        f"nodes {run.statuses}",
        flush=True,
    )
    if not run.ok:
        raise RuntimeError(f"dbt build failed: see {data_dir / 'dbt-build.out'}")
    marts = publish_all(data_dir)
    built = {
        "target_events": events,
        "event_rows": event_rows,
        "weeks": weeks,
        "dbt": dbt_fingerprint(),
        "dbt_build_seconds": round(run.seconds, 1),
        "dbt_peak_rss_gib": round(run.peak_rss_bytes / 2**30, 2),
        "mart_rows": marts,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started),
    }
    (data_dir / MARKER).write_text(json.dumps(built, indent=2))
    return data_dir, built
