"""`parkflow import`: vendor history into the lake without Kafka, through the stream's own steps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from parkflow.cli.console import console, err_console, fail
from parkflow.cli.replay import resolve_files
from parkflow.estate import EstateError, load_estate
from parkflow.importing import ImportReport, import_files
from parkflow.registry import discover_plugins
from parkflow.settings import load_settings


def import_history(
    paths: Annotated[list[Path], typer.Argument(help="Vendor files or folders of them.")],
    vendor: Annotated[
        str | None, typer.Option(help="Plugin of the files (default: each file name's stem).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (default PARKFLOW_DATA_DIR, else ./data).")
    ] = None,
) -> None:
    """Import vendor files (one payload per line) into the lake, as the worker would land them.

    The same plugins, plate pseudonymisation, session, device and occupancy rules as the
    stream; then the next dbt build (or Dagster refresh) publishes the history.
    """
    settings = load_settings()
    if data_dir:
        settings = settings.model_copy(update={"data_dir": data_dir})
    try:
        estate = load_estate(settings.estate)
    except EstateError as exc:
        fail(f"{exc}\nfix the estate first (`parkflow estate check`)")
    registry = discover_plugins()
    files, _ = resolve_files(paths, vendor, registry)
    total = sum(path.stat().st_size for _, path in files)
    progress = Progress(
        TextColumn("[bold]importing[/]"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    task = progress.add_task("import", total=total)
    with progress:
        report = import_files(
            files,
            registry,
            settings.data_dir,
            estate,
            plate_key=settings.resolve_plate_key() if settings.hash_plates else None,
            on_payload=lambda size: progress.advance(task, size),
        )
    _summary(report, len(files), settings.data_dir)


def _summary(report: ImportReport, files: int, data_dir: Path) -> None:
    console.print(
        f"imported {report.payloads:,} payloads from {files} file(s) into {data_dir / 'lake'}: "
        f"{report.events:,} events in {report.seconds:.1f} s "
        f"({report.events_per_second:,.0f} events/s)"
    )
    table = Table(title="rows written", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in report.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    if report.dead_letters:
        reasons = Table(title="dead letters by reason", title_justify="left")
        reasons.add_column("reason", overflow="fold")
        reasons.add_column("payloads", justify="right")
        for reason, count in report.dead_letters.most_common(20):
            reasons.add_row(reason, f"{count:,}")
        console.print(reasons)
    if report.unknown_facilities:
        names = ", ".join(f"{f} ({n:,} events)" for f, n in report.unknown_facilities.items())
        console.print(
            f"[yellow]facilities not in the estate:[/] {names}: they are kept in the lake; "
            "add them to the estate file (PARKFLOW_ESTATE) to see them in the marts"
        )
    console.print(
        "next: refresh the marts (Dagster's `refresh_marts`, or `parkflow estate export` then "
        f"PARKFLOW_DATA_DIR={data_dir} dbt build --project-dir dbt_project "
        "--profiles-dir dbt_project)"
    )
