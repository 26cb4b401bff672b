"""`parkflow replay`: send vendor files to their raw.<vendor> topics."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from parkflow.cli.console import console, fail
from parkflow.registry import PluginRegistry, UnknownPluginError, discover_plugins
from parkflow.replay import replay_payloads, vendor_files
from parkflow.sdk import SourcePlugin
from parkflow.settings import load_settings
from parkflow.simulator import KafkaSink, pause_until


def replay(
    paths: Annotated[list[Path], typer.Argument(help="Vendor files or simulation folders.")],
    vendor: Annotated[
        str | None, typer.Option(help="Plugin of the files (default: each file name's stem).")
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(min=0.001, help="Replay at this multiple of real time (default: at once)."),
    ] = None,
    bootstrap: Annotated[
        str | None, typer.Option(help="Kafka bootstrap servers (default PARKFLOW_KAFKA_BOOTSTRAP).")
    ] = None,
) -> None:
    """Send vendor files (one payload per line) to raw.<vendor>, merged in event-time order."""
    settings = load_settings()
    bootstrap = bootstrap or settings.kafka_bootstrap
    if not bootstrap:
        fail(
            "no Kafka to send to: pass --bootstrap, set PARKFLOW_KAFKA_BOOTSTRAP, or run "
            "`parkflow broker`"
        )
    registry = discover_plugins()
    files, plugins = resolve_files(paths, vendor, registry)
    total = sum(1 for _, path in files for line in path.open("rb") if line.strip())
    try:
        sent = asyncio.run(
            _send(
                files,
                plugins,
                registry,
                KafkaSink(
                    bootstrap,
                    settings.partitions,
                    settings.kafka_replication,
                    retry_for_s=settings.producer_retry_s,
                ),
                speed,
                total,
            )
        )
    except OSError as exc:
        fail(f"cannot send payloads: {exc}")
    console.print(f"sent {sent} payloads from {len(files)} file(s) to {bootstrap}")


def resolve_files(
    paths: list[Path], vendor: str | None, registry: PluginRegistry
) -> tuple[list[tuple[str, Path]], list[SourcePlugin]]:
    """The (vendor, file) pairs of `paths` and their plugins; a user error when there are none."""
    for path in paths:
        if not path.exists():
            fail(f"{path} does not exist")
    files = vendor_files(paths, registry, vendor)
    if not files:
        fail("no vendor files found (<plugin>.jsonl/.csv/.txt)")
    try:
        plugins = [registry.get(name) for name in dict.fromkeys(name for name, _ in files)]
    except UnknownPluginError as exc:
        fail(f"{exc}; pass --vendor")
    return files, plugins


async def _send(
    files: list[tuple[str, Path]],
    plugins: list[SourcePlugin],
    registry: PluginRegistry,
    sink: KafkaSink,
    speed: float | None,
    total: int,
) -> int:
    progress = Progress(
        TextColumn("[bold]replaying[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = progress.add_task("replay", total=total)
    await sink.open(plugins)
    sent, started, first = 0, time.monotonic(), None
    try:
        with progress:
            for payload in replay_payloads(files, registry):
                if speed and payload.deliver_at.year > 1:
                    first = first or payload.deliver_at
                    await pause_until(
                        started + (payload.deliver_at - first).total_seconds() / speed
                    )
                await sink.send(payload)
                sent += 1
                if sent % 500 == 0:
                    progress.update(task, completed=sent)
    finally:
        await sink.close()
    return sent
