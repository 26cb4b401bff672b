"""`parkflow simulate`: realistic vendor traffic to files or Kafka topics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from parkflow.cli.console import console, fail
from parkflow.registry import UnknownPluginError, discover_plugins
from parkflow.settings import load_settings
from parkflow.simulator import (
    FaultRates,
    FileSink,
    KafkaSink,
    Manifest,
    Pacing,
    SimulationConfig,
    default_start,
    run_simulation,
    write_manifest,
)

FAULTS = "Fault rates (0..1; defaults are what real deployments see)"


def parse_start(text: str) -> datetime:
    """An ISO date or date-time; naive values are UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(
            f"--start {text!r} is not an ISO date or date-time "
            "(e.g. 2026-11-20 or 2026-11-20T06:00)"
        )
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def simulate(
    days: Annotated[float, typer.Option(min=0.001, help="Length of the period in days.")] = 1.0,
    start: Annotated[
        str | None,
        typer.Option(
            help="Start (ISO date/time, UTC if no offset). Default: midnight UTC `days` ago."
        ),
    ] = None,
    facilities: Annotated[int, typer.Option(min=1, max=6, help="How many facilities.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 7,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the vendor files. Default: <data dir>/simulated."),
    ] = None,
    kafka: Annotated[bool, typer.Option("--kafka", help="Send to topics raw.<vendor>.")] = False,
    bootstrap: Annotated[
        str | None, typer.Option(help="Kafka bootstrap servers (default PARKFLOW_KAFKA_BOOTSTRAP).")
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Start now and send in real time (implies --kafka).")
    ] = False,
    speed: Annotated[
        float | None, typer.Option(min=0.001, help="Replay at this multiple of real time.")
    ] = None,
    events: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many payloads (device messages).")
    ] = None,
    delay: Annotated[
        int | None, typer.Option(min=0, help="Pause in milliseconds between payloads.")
    ] = None,
    clean: Annotated[bool, typer.Option("--clean", help="Set every fault rate to 0.")] = False,
    misread_rate: Annotated[float | None, typer.Option(rich_help_panel=FAULTS)] = None,
    duplicate_rate: Annotated[float | None, typer.Option(rich_help_panel=FAULTS)] = None,
    missing_exit_rate: Annotated[float | None, typer.Option(rich_help_panel=FAULTS)] = None,
    late_rate: Annotated[float | None, typer.Option(rich_help_panel=FAULTS)] = None,
    outage_rate: Annotated[float | None, typer.Option(rich_help_panel=FAULTS)] = None,
    out_of_range_rate: Annotated[float | None, typer.Option(rich_help_panel=FAULTS)] = None,
    garbage_rate: Annotated[float | None, typer.Option(rich_help_panel=FAULTS)] = None,
    telemetry_interval: Annotated[
        int, typer.Option(min=5, help="Seconds between telemetry readings of a device.")
    ] = 60,
) -> None:
    """Generate vendor-native payloads for several facilities over a period.

    Traffic follows field patterns (morning and evening peaks, quiet nights,
    short, medium and all-day stays, 85% paying) and, at the given rates, the
    faults of the field: ANPR misreads, duplicate sends, missed exits, late
    and out-of-order delivery, device outages, out-of-range readings and
    corrupted payloads. A manifest records what was sent.
    """
    settings = load_settings()
    overrides = {
        "misread": misread_rate,
        "duplicate": duplicate_rate,
        "missing_exit": missing_exit_rate,
        "late": late_rate,
        "outage": outage_rate,
        "out_of_range": out_of_range_rate,
        "garbage": garbage_rate,
    }
    try:
        base = FaultRates.none() if clean else FaultRates()
        given = {name: rate for name, rate in overrides.items() if rate is not None}
        faults = FaultRates(**{**base.model_dump(), **given})
        if live:
            begin = datetime.now(UTC).replace(microsecond=0)
            speed = speed or 1.0
        else:
            begin = parse_start(start) if start else default_start(days)
        config = SimulationConfig(
            start=begin,
            days=days,
            facilities=facilities,
            seed=seed,
            faults=faults,
            telemetry_interval_s=telemetry_interval,
        )
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    if not live and config.end > datetime.now(UTC) and speed is None and delay is None:
        fail(
            "the period ends in the future (devices cannot report it yet): pass an earlier "
            "--start, fewer --days, or --live"
        )
    if kafka or live:
        bootstrap = bootstrap or settings.kafka_bootstrap
        if not bootstrap:
            fail(
                "no Kafka to send to: pass --bootstrap HOST:PORT, set PARKFLOW_KAFKA_BOOTSTRAP, "
                "or start one with `parkflow broker`"
            )
        sink = KafkaSink(
            bootstrap,
            settings.partitions,
            settings.kafka_replication,
            retry_for_s=settings.producer_retry_s,
            stamp_delivery=True,
        )
        folder = None
    else:
        folder = out or settings.data_dir / "simulated"
        sink = FileSink(folder)
    pacing = Pacing(speed=speed, delay_s=(delay or 0) / 1000)
    try:
        manifest = asyncio.run(_run(config, sink, pacing, events))
    except UnknownPluginError as exc:
        fail(f"{exc}; the simulator needs the built-in vendor plugins")
    except OSError as exc:
        fail(f"cannot send payloads: {exc}")
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    if folder is not None:
        write_manifest(manifest, folder)
    _print_summary(manifest)


async def _run(config: SimulationConfig, sink, pacing: Pacing, limit: int | None) -> Manifest:
    total = (config.end - config.start).total_seconds()
    progress = Progress(
        TextColumn("[bold]simulating[/]"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[payloads]} payloads"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = progress.add_task("simulate", total=total, payloads=0)
    count = 0

    def advance(payload) -> None:
        nonlocal count
        count += 1
        if count % 500 == 0:
            done = min(total, (payload.deliver_at - config.start).total_seconds())
            progress.update(task, completed=done, payloads=count)

    with progress:
        return await run_simulation(
            config, sink, discover_plugins(), pacing=pacing, limit=limit, on_payload=advance
        )


def _print_summary(manifest: Manifest) -> None:
    table = Table(
        title=f"{manifest.payloads} payloads, {manifest.start:%Y-%m-%d %H:%M} to "
        f"{manifest.end:%Y-%m-%d %H:%M} UTC, facilities {', '.join(manifest.facilities)}, "
        f"seed {manifest.seed}",
        title_justify="left",
    )
    for column in (
        "vendor",
        "destination",
        "payloads",
        "events",
        "corrupted",
        "duplicates",
        "late",
    ):
        table.add_column(column, justify="left" if column in ("vendor", "destination") else "right")
    for name, stats in manifest.vendors.items():
        table.add_row(
            name,
            stats.destination,
            str(stats.payloads),
            str(stats.events),
            str(stats.corrupted),
            str(stats.duplicates),
            str(stats.late),
        )
    console.print(table)
    console.print("ground truth: " + ", ".join(f"{k}={v}" for k, v in manifest.truth.items()))
