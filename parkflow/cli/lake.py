"""`parkflow lake`: build (or extend) a lake without Kafka, for dbt, tests and dashboards."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from parkflow.batch import (
    BuildReport,
    append_to_lake,
    build_lake,
    clear_lake,
    lake_has_files,
    read_manifest,
)
from parkflow.cli.console import console, fail
from parkflow.cli.simulate import parse_start
from parkflow.lake import raw_dir
from parkflow.registry import UnknownPluginError, discover_plugins
from parkflow.settings import Settings, load_settings
from parkflow.simulator import SimulationConfig, default_start

app = typer.Typer(
    help="Build a lake from simulated traffic without Kafka (for dbt, tests and dashboards).",
    no_args_is_help=True,
)

DataDir = Annotated[
    Path | None,
    typer.Option(help="Data directory (default PARKFLOW_DATA_DIR, else ./data)."),
]


def _settings(data_dir: Path | None) -> Settings:
    settings = load_settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


def _plate_key(settings: Settings) -> bytes | None:
    return settings.resolve_plate_key() if settings.hash_plates else None


@app.command("build")
def build(
    days: Annotated[float, typer.Option(min=0.01, max=366, help="Days to simulate.")] = 7.0,
    facilities: Annotated[int, typer.Option(min=1, max=6, help="How many facilities.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same lake.")] = 7,
    start: Annotated[
        str | None,
        typer.Option(
            help="Start (ISO date/time, UTC if no offset). Default: midnight UTC `days` ago."
        ),
    ] = None,
    data_dir: DataDir = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete an existing lake first (not the warehouse).")
    ] = False,
) -> None:
    """Simulate traffic and write every lake table as the streaming worker would.

    Payloads from the simulator (with its field and transit faults) are parsed by the real
    vendor plugins, plates are pseudonymised, and the streaming rule classes (session
    matching, device and capacity alerts) run in event-time order. Then run dbt on it.
    """
    settings = _settings(data_dir)
    try:
        begin = parse_start(start) if start else default_start(days)
        config = SimulationConfig(start=begin, days=days, facilities=facilities, seed=seed)
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    if config.end > datetime.now(UTC):
        fail("the period ends in the future (devices cannot report it yet): use an earlier --start")
    if lake_has_files(settings.data_dir):
        if not replace:
            fail(
                f"{raw_dir(settings.data_dir)} already holds a lake: pass --replace to rebuild "
                "it, or extend it with `parkflow lake append`"
            )
        clear_lake(settings.data_dir)
    started = time.perf_counter()
    try:
        with console.status("simulating, parsing and matching..."):
            report = build_lake(
                settings.data_dir,
                config,
                plate_key=_plate_key(settings),
                registry=discover_plugins(),
            )
    except UnknownPluginError as exc:
        fail(f"{exc}; the lake builder needs the built-in vendor plugins")
    report.seconds = time.perf_counter() - started
    _print_report("built", report, settings.data_dir)


@app.command("append")
def append(
    hours: Annotated[float, typer.Option(min=0.01, help="Hours to add after the lake's end.")] = 1,
    data_dir: DataDir = None,
) -> None:
    """Extend a lake made by `parkflow lake build` by some hours (to try incremental dbt runs).

    The whole period is simulated again (same seed and start), so vehicles inside at the
    old end leave in the new hours; only rows the lake does not hold yet are written.
    """
    settings = _settings(data_dir)
    try:
        manifest = read_manifest(settings.data_dir)
    except FileNotFoundError:
        fail(f"no lake built by `parkflow lake build` in {settings.data_dir}")
    end = manifest.end.timestamp() + hours * 3600
    if end > time.time():
        fail("the new end is in the future (devices cannot report it yet): append fewer hours")
    started = time.perf_counter()
    try:
        with console.status("simulating the longer period and writing what is new..."):
            report = append_to_lake(
                settings.data_dir,
                hours,
                plate_key=_plate_key(settings),
                registry=discover_plugins(),
            )
    except ValueError as exc:
        fail(str(exc))
    report.seconds = time.perf_counter() - started
    _print_report("appended", report, settings.data_dir)


def _print_report(verb: str, report: BuildReport, data_dir: Path) -> None:
    manifest = report.manifest
    console.print(
        f"lake {verb} in {raw_dir(data_dir)}: {manifest.start:%Y-%m-%d %H:%M} to "
        f"{manifest.end:%Y-%m-%d %H:%M} UTC, {manifest.facilities} facilities, "
        f"seed {manifest.seed}"
    )
    table = Table()
    table.add_column("table")
    table.add_column("rows written", justify="right")
    for name, rows in report.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(
        f"{report.payloads:,} payloads simulated, {report.files} files written "
        f"in {report.seconds:.1f} s; plates "
        + ("pseudonymised" if manifest.plate_key_id else "[bold]in clear[/]")
    )
    console.print(
        f"next: PARKFLOW_DATA_DIR={data_dir} dbt build --project-dir dbt_project "
        "--profiles-dir dbt_project"
    )
