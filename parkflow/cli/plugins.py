"""`parkflow plugins ...`: list, check and scaffold vendor source plugins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from parkflow.cli.console import console, fail
from parkflow.registry import PluginRegistry, UnknownPluginError, discover_plugins
from parkflow.scaffold import ScaffoldError, create_plugin_package
from parkflow.sdk import SourcePlugin

app = typer.Typer(help="Vendor source plugins: list, check, scaffold.", no_args_is_help=True)


@app.command("list")
def list_plugins(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List installed source plugins (entry-point group parkflow.sources) and load problems."""
    registry = discover_plugins()
    rows = [
        {
            "name": record.name,
            "vendor": record.vendor,
            "version": record.package_version,
            "package": record.package,
            "content_type": record.plugin.content_type if record.plugin else "",
            "status": "ok" if record.ok else f"error: {record.problem}",
        }
        for record in registry.records
    ]
    if as_json:
        console.print_json(orjson.dumps(rows).decode())
        return
    table = Table(title=f"{len(registry)} source plugins", title_justify="left")
    for column in ("name", "vendor", "version", "package", "content type", "status"):
        table.add_column(column, overflow="fold")
    for row in rows:
        status = "[green]ok[/]" if row["status"] == "ok" else f"[red]{row['status']}[/]"
        table.add_row(
            row["name"], row["vendor"], row["version"], row["package"], row["content_type"], status
        )
    console.print(table)


def _selected(registry: PluginRegistry, names: list[str]) -> list[SourcePlugin]:
    """The loaded plugins named (all when none); fails on names that are not installed."""
    if not names:
        return list(registry)
    broken = {record.name for record in registry.problems}
    unknown = [name for name in names if name not in registry and name not in broken]
    if len(unknown) == 1:
        fail(str(UnknownPluginError(unknown[0], registry.names())))
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        fail(f"unknown vendor plugins {listed} (installed: {', '.join(registry.names())})")
    return [registry.get(name) for name in names if name in registry]


@app.command("check")
def check(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Plugins to check, e.g. paymaster citycount; all when omitted."),
    ] = None,
    examples: Annotated[int, typer.Option(min=1, help="Payloads per fuzz check.")] = 300,
    seed: Annotated[int, typer.Option(help="Fuzzing seed.")] = 0,
) -> None:
    """Run the conformance kit against plugins and print a report (exit 1 on failure)."""
    from parkflow.testing import check_plugin  # imports hypothesis: only when checking

    registry = discover_plugins()
    wanted = list(dict.fromkeys(names or ()))
    plugins = _selected(registry, wanted)
    failed: list[object] = [
        record for record in registry.problems if not wanted or record.name in wanted
    ]
    for record in failed:
        console.print(f"[red]FAIL[/] {record.name} ({record.package}): {record.problem}")
    for plugin in plugins:
        with console.status(f"checking {plugin.name}..."):
            report = check_plugin(plugin, fuzz_examples=examples, seed=seed)
        table = Table(title=f"{plugin.name} — {plugin.vendor}", title_justify="left")
        for column in ("check", "result", "detail", "time"):
            table.add_column(column, overflow="fold")
        for result in report.results:
            mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
            table.add_row(result.name, mark, result.detail, f"{result.seconds:.2f}s")
        console.print(table)
        if not report.passed:
            failed.append(report)
    if failed:
        fail(f"{len(failed)} plugin(s) break the contract")
    console.print("[green]all plugins keep the contract[/]")


@app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="Plugin name, lower case: acme -> topic raw.acme.")],
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder to create the package in.")
    ] = Path("."),
    vendor: Annotated[str | None, typer.Option(help="Vendor name for `plugins list`.")] = None,
) -> None:
    """Scaffold a plugin package with samples and a passing conformance test."""
    try:
        target = create_plugin_package(name, directory, vendor)
    except ScaffoldError as exc:
        fail(str(exc))
    console.print(f"created [bold]{target}[/]\n")
    console.print("next steps:")
    console.print(f"  pip install -e {target}      # registers it under parkflow.sources")
    console.print(f"  pytest {target}              # conformance kit + your tests")
    console.print(f"  parkflow plugins check {name}")
