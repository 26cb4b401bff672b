"""Root of the `parkflow` command line (typer): one sub-module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from parkflow import __version__
from parkflow.cli import (
    broker,
    dagster,
    dashboard,
    demo,
    estate,
    imports,
    lake,
    parse,
    plugins,
    replay,
    simulate,
    status,
    up,
    worker,
)
from parkflow.cli.console import fail
from parkflow.settings import SettingsError, load_settings

app = typer.Typer(
    name="parkflow",
    help="ParkFlow: open data platform for parking operations.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
)
app.add_typer(plugins.app, name="plugins")
app.add_typer(lake.app, name="lake")
app.add_typer(estate.app, name="estate")
app.command("simulate")(simulate.simulate)
app.command("parse")(parse.parse)
app.command("broker")(broker.broker)
app.command("worker")(worker.worker)
app.command("replay")(replay.replay)
app.command("import")(imports.import_history)
app.command("demo")(demo.demo)
app.command("dagster")(dagster.dagster)
app.command("dashboard")(dashboard.dashboard)
app.command("up")(up.up)
app.command("status")(status.status)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"parkflow {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """ParkFlow: vendor plugins, streaming session matching, dbt marts, Dagster, dashboards."""
    try:  # every command reads them: a bad one is said once, here, not as a traceback later
        load_settings()
    except SettingsError as exc:
        fail(str(exc))


def main() -> None:
    """Console-script entry point."""
    app()
