"""Does `make demo` settle, whatever the seed and the hour? Time to worker lag 0 and to every
dashboard page showing data, and the new-data sensor's runs that failed.

Each run starts the platform as `make demo` does (`parkflow up --history N --simulate`, one
seed per run) in a fresh data dir, on free ports, and watches it:

- **lag 0**: the first moment the worker's live API has nothing left to read and has counted
  events of the last five minutes (the live traffic's);
- **pages with data**: the first moment every dashboard page and view shows data, with no
  "held back" banner, and Live is online, caught up and below 100% wherever no count is
  flagged (`tests/e2e/settled.py`, in a real browser);
- **runs**: every run of `refresh_marts` the sensor `new_lake_data` started, by status, once
  the run has been watched for `--watch` minutes after its pages had data (the live traffic
  keeps requesting runs: those are counted too).

A run that never has every page with data within `--timeout` minutes did not settle; so does
one with a failed sensor run. Exit status 1 when any run did not settle.

`--fresh-clone` runs `make demo` itself in a new clone of this repository instead: times then
start at `make demo` and include creating the venv and installing (the README's figures).

Run it on a quiet machine: the timings include the backfill, dbt and the browser, all on the
same cores. `python benchmarks/demo_settle.py --runs 5` takes about 12 minutes per run at the
default 28 days.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.settled import (  # noqa: E402
    FINISHED,
    caught_up_to_now,
    page_problems,
    sensor_runs,
)
from tests.processes import stop_group  # noqa: E402

BIN = Path(sys.executable).parent


@dataclass
class Outcome:
    """What one start of the platform came to."""

    seed: int
    started_at: str
    lag_zero_s: float | None = None
    pages_s: float | None = None
    runs: Counter = field(default_factory=Counter)
    problems: dict[str, str] = field(default_factory=dict)
    log_tail: str = ""

    @property
    def settled(self) -> bool:
        """Every page had data and no sensor run failed."""
        return self.pages_s is not None and not self.runs["FAILURE"]


def watch(
    seed: int, history: float, timeout_min: float, watch_min: float, fresh_clone: bool = False
) -> Outcome:
    """Start the platform with `seed` and watch it until it has settled and been watched.
    `fresh_clone`: `make demo` in a new clone of this repository instead (its own venv, seed
    and history; times then include the install)."""
    outcome = Outcome(seed, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    with tempfile.TemporaryDirectory(prefix="parkflow-settle-") as folder:
        log_path = Path(folder) / "up.log"
        if fresh_clone:
            checkout = Path(folder) / "parkflow"
            subprocess.run(["git", "clone", "-q", str(REPO), str(checkout)], check=True)
            env = {k: v for k, v in os.environ.items() if not k.startswith("PARKFLOW_")}
            command, cwd, data_dir = ["make", "demo"], checkout, checkout / "data"
        else:
            data_dir = Path(folder) / "data"
            env = {**os.environ, "PARKFLOW_DATA_DIR": str(data_dir)}
            env.pop("PARKFLOW_KAFKA_BOOTSTRAP", None)
            command = [str(BIN / "parkflow"), "up", "--history", str(history), "--simulate"]
            command, cwd = [*command, "--seed", str(seed)], REPO
        log = log_path.open("wb")
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            urls = None
            deadline = started + timeout_min * 60
            while time.monotonic() < deadline and process.poll() is None:
                elapsed = time.monotonic() - started
                try:
                    urls = urls or json.loads((data_dir / "run" / "up.json").read_text())
                    caught_up = caught_up_to_now(urls["worker"])
                except (OSError, ValueError, KeyError):
                    time.sleep(5)
                    continue
                if outcome.lag_zero_s is None and caught_up:
                    outcome.lag_zero_s = elapsed
                if outcome.pages_s is None and (data_dir / "marts").exists():
                    outcome.problems = page_problems(urls["dashboard"], urls["worker"])
                    if not outcome.problems:
                        outcome.pages_s = elapsed
                        deadline = time.monotonic() + watch_min * 60
                time.sleep(10)
            if urls:
                runs = sensor_runs(urls["dagster"], limit=500)
                outcome.runs = Counter(r["status"] for r in runs if r["status"] in FINISHED)
        finally:
            stop_group(process)
            log.close()
            if not outcome.settled:
                outcome.log_tail = log_path.read_text(errors="replace")[-2000:]
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Starts, one seed each.")
    parser.add_argument("--first-seed", type=int, default=7, help="The first run's seed.")
    parser.add_argument(
        "--history", type=float, default=28, help="Days of history (28: make demo)."
    )
    parser.add_argument("--timeout", type=float, default=30, help="Minutes to settle at most.")
    parser.add_argument("--watch", type=float, default=3, help="Minutes watched after settling.")
    parser.add_argument(
        "--fresh-clone",
        action="store_true",
        help="Run `make demo` in a fresh clone (install included; its seed 7 and 28 days).",
    )
    parser.add_argument("--json", type=Path, help="Also write the outcomes here.")
    args = parser.parse_args()

    outcomes = []
    print("| seed | started | lag 0 | every page with data | sensor runs (ok / failed) | settled |")
    print("|---|---|---|---|---|---|")
    for seed in range(args.first_seed, args.first_seed + args.runs):
        outcome = watch(seed, args.history, args.timeout, args.watch, args.fresh_clone)
        outcomes.append(outcome)
        lag = f"{outcome.lag_zero_s / 60:.1f} min" if outcome.lag_zero_s else "never"
        pages = f"{outcome.pages_s / 60:.1f} min" if outcome.pages_s else "never"
        runs = f"{outcome.runs['SUCCESS']} / {outcome.runs['FAILURE']}"
        print(
            f"| {seed} | {outcome.started_at} | {lag} | {pages} | {runs} | "
            f"{'yes' if outcome.settled else 'NO'} |",
            flush=True,
        )
        if not outcome.settled:
            print(f"  still wrong: {outcome.problems}\n{outcome.log_tail}", flush=True)
    if args.json:
        args.json.write_text(json.dumps([o.__dict__ for o in outcomes], indent=2, default=str))
    sys.exit(0 if all(o.settled for o in outcomes) else 1)


if __name__ == "__main__":
    main()
