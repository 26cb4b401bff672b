"""`parkflow parse`: run vendor files through the plugins and report events and dead letters."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.table import Table

from parkflow.cli.console import console, fail
from parkflow.events import event_to_json
from parkflow.parsing import DeadLetter, parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from parkflow.registry import PluginRegistry, UnknownPluginError, discover_plugins
from parkflow.settings import load_settings


def _vendor_files(paths: list[Path], vendor: str | None, registry: PluginRegistry):
    for path in paths:
        if path.is_dir():
            found = [p for p in sorted(path.iterdir()) if p.is_file() and p.stem in registry]
            if not found:
                fail(f"{path} has no vendor files (<plugin>.jsonl/.csv/.txt)")
            yield from ((p.stem, p) for p in found)
        elif path.is_file():
            yield vendor or path.stem, path
        else:
            fail(f"{path} does not exist")


def parse(
    paths: Annotated[list[Path], typer.Argument(help="Vendor files or simulation folders.")],
    vendor: Annotated[
        str | None, typer.Option(help="Plugin for the files (default: the file name's stem).")
    ] = None,
    events_out: Annotated[
        Path | None, typer.Option(help="Write the canonical events here (JSON lines).")
    ] = None,
    dead_letters_out: Annotated[
        Path | None, typer.Option(help="Write the dead letters here (JSON lines).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any payload is rejected.")
    ] = False,
) -> None:
    """Parse vendor payloads (one per line) with their plugins, like the normalize step does.

    As in the pipeline, plates are pseudonymised and dead letters keep only the shape of
    their payloads (which may hold clear plates), unless PARKFLOW_HASH_PLATES=false.
    """
    settings = load_settings()
    registry = discover_plugins()
    hasher = PlateHasher(settings.resolve_plate_key()) if settings.hash_plates else None
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    events_file: IO[bytes] | None = events_out.open("wb") if events_out else None
    dead_file: IO[bytes] | None = dead_letters_out.open("wb") if dead_letters_out else None
    try:
        for name, path in _vendor_files(paths, vendor, registry):
            try:
                plugin = registry.get(name)
            except UnknownPluginError as exc:
                fail(f"{path}: {exc}; pass --vendor")
            with path.open("rb") as handle:
                for line in handle:
                    payload = line.rstrip(b"\r\n")
                    if not payload.strip():
                        continue
                    result = parse_payload(plugin, payload, max_bytes=settings.max_payload_bytes)
                    counts[name]["payloads"] += 1
                    if not result.ok:
                        counts[name]["dead letters"] += 1
                        reasons[name][result.error] += 1
                        if dead_file:
                            letter = DeadLetter.of(
                                name, payload, result.error, mask=hasher is not None
                            )
                            dead_file.write(letter.model_dump_json().encode() + b"\n")
                        continue
                    events = pseudonymise_plates(result.events, hasher) if hasher else result.events
                    for event in events:
                        counts[name][event.event_type.value] += 1
                        if events_file:
                            events_file.write(event_to_json(event) + b"\n")
    finally:
        for handle in (events_file, dead_file):
            if handle:
                handle.close()
    _report(counts, reasons)
    if strict and any(c["dead letters"] for c in counts.values()):
        fail("some payloads were rejected (see above)")


def _report(counts: dict[str, Counter[str]], reasons: dict[str, Counter[str]]) -> None:
    types = sorted({key for c in counts.values() for key in c} - {"payloads", "dead letters"})
    table = Table(title="parsed", title_justify="left")
    for column in ["vendor", "payloads", *types, "dead letters"]:
        table.add_column(column, justify="left" if column == "vendor" else "right")
    for name, count in counts.items():
        table.add_row(name, *(str(count[c]) for c in ["payloads", *types, "dead letters"]))
    console.print(table)
    for name, by_reason in reasons.items():
        console.print(f"[bold]{name}[/] rejected payloads, most common reasons:")
        for reason, n in by_reason.most_common(3):
            console.print(f"  {n:>6}  {reason[:110]}")
