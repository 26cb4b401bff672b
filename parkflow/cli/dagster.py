"""`parkflow dagster`: the Dagster UI and daemon on the code location, with ParkFlow's instance."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from parkflow import supervision
from parkflow.cli.console import console
from parkflow.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def dagster_home(data_dir: Path) -> Path:
    """`<data dir>/dagster_home`, holding ParkFlow's `dagster.yaml` (pools, no telemetry)."""
    home = data_dir.resolve() / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    settings_file = home / "dagster.yaml"
    if not settings_file.exists():
        shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", settings_file)
    return home


def fail_interrupted_runs(home: Path) -> list[str]:
    """Mark the runs a previous stop left in progress as failed; their ids.

    Only one `dagster dev` runs per home, so before it starts no run worker of this instance
    can be alive. A run killed while it held the warehouse pool would otherwise hold it
    forever (the default run launcher cannot check its workers), and no refresh would run.
    """
    import dagster as dg

    in_progress = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
                   dg.DagsterRunStatus.CANCELING]  # fmt: skip
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records(dg.RunsFilter(statuses=in_progress))
        for record in records:
            instance.report_run_failed(
                record.dagster_run, "Dagster was stopped while this run was in progress."
            )
    return [record.dagster_run.run_id for record in records]


def dagster(
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Interface the UI binds.")] = "127.0.0.1",
) -> None:
    """Run `dagster dev -w workspace.yaml` (UI, daemon: schedules and sensors run)."""
    settings = load_settings()
    home = dagster_home(settings.data_dir)
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "PARKFLOW_DATA_DIR": str(settings.data_dir.resolve())}  # fmt: skip
    for run_id in fail_interrupted_runs(home):
        console.print(f"run {run_id} was interrupted by the last stop: marked failed")
    console.print(f"Dagster UI on [bold]http://{host}:{port}[/] (DAGSTER_HOME={home})")
    command = [str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml"]
    command += ["-h", host, "-p", str(port)]
    raise typer.Exit(supervision.run_supervised(command, cwd=REPO_ROOT, env=env))
