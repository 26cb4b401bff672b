"""`parkflow estate ...`: check, show and export the operator's estate (PARKFLOW_ESTATE)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from parkflow.cli.console import console, err_console, fail
from parkflow.estate import SAMPLE_ESTATE, Estate, EstateError, estate_files, load_estate
from parkflow.estate.tables import write_estate_tables
from parkflow.settings import load_settings

app = typer.Typer(
    help="The estate: your facilities, zones, capacities, tariffs (docs/estate.md).",
    no_args_is_help=True,
)

PathArgument = Annotated[
    Path | None,
    typer.Argument(help="An estate file or folder; default PARKFLOW_ESTATE, else the sample."),
]


def _load(path: Path | None) -> tuple[Path, Estate]:
    path = path or load_settings().estate or SAMPLE_ESTATE
    try:
        return path, load_estate(path)
    except EstateError as exc:
        for problem in exc.problems:
            err_console.print(f"[red]✗[/] {problem}", highlight=False, soft_wrap=True)
        fail(f"{path}: {len(exc.problems)} problem(s); fix them and run `parkflow estate check`")


def require_estate() -> Estate:
    """The estate of PARKFLOW_ESTATE, or a user error naming each problem (before a start)."""
    return _load(None)[1]


@app.command("check")
def check(path: PathArgument = None) -> None:
    """Validate the estate files: every problem is named by file, line and field."""
    path, estate = _load(path)
    files = estate_files(path)
    zones = sum(len(f.zones) for f in estate.facilities)
    console.print(
        f"[green]ok[/] {path}: {len(estate.facilities)} facilities, {zones} zones "
        f"in {len(files)} file{'s' if len(files) != 1 else ''}"
    )


@app.command("show")
def show(path: PathArgument = None) -> None:
    """The facilities of the estate, with today's capacity, time zone and tariff."""
    path, estate = _load(path)
    table = Table(title=f"{path}", title_justify="left")
    for column in ("id", "name", "kind", "capacity", "time zone", "tariff", "max stay", "zones"):
        table.add_column(column, overflow="fold")
    for f in estate.facilities:
        t = f.tariff
        table.add_row(
            f.facility_id,
            f.name,
            f.kind.value,
            str(f.capacity) + (f" ({len(f.capacities)} periods)" if len(f.capacities) > 1 else ""),
            f.timezone,
            f"{t.base_fee} + {t.hourly_rate}/h, max {t.max_fee} {f.currency}, "
            f"{t.grace_minutes} min free",
            f"{f.max_stay_hours} h",
            ", ".join(z.zone_id for z in f.zones),
        )
    console.print(table)


@app.command("export")
def export(path: PathArgument = None) -> None:
    """Write the estate tables dbt reads (`<data dir>/lake/estate/`), before a manual dbt run."""
    path, estate = _load(path)
    data_dir = load_settings().data_dir
    files = write_estate_tables(estate, data_dir)
    console.print(f"wrote {len(files)} estate tables of {path} to {files[0].parent}")
