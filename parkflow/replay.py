"""Reading vendor files (one payload per line) in event-time order, for replay and import.

Payloads from several files are merged in event-time order, each file keeping its
own order (a payload delivered late in the file stays late). Each payload's time
is that of its first event, as its plugin parses it; a payload that does not
parse (a CSV header line, a corrupted line) keeps the time of the one before it, or
goes first when it opens its file, and is sent as is, so the pipeline dead-letters it
as it would in production.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from parkflow.parsing import ParseResult, parse_payload
from parkflow.registry import PluginRegistry
from parkflow.simulator.transport import Payload

#: The time of a payload that opens its file without an event: before every other.
EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ParsedPayload:
    """One line of a vendor file, and what its plugin made of it."""

    payload: Payload
    result: ParseResult


def vendor_files(
    paths: list[Path], registry: PluginRegistry, vendor: str | None
) -> list[tuple[str, Path]]:
    """(vendor, file) pairs: folders give their `<plugin>.*` files, files their stem or `vendor`."""
    found = []
    for path in paths:
        if path.is_dir():
            found += [
                (p.stem, p) for p in sorted(path.iterdir()) if p.is_file() and p.stem in registry
            ]
        else:
            found.append((vendor or path.stem, path))
    return found


def _parsed(vendor: str, path: Path, registry: PluginRegistry) -> Iterator[ParsedPayload]:
    plugin = registry.get(vendor)
    last = EARLIEST
    with path.open("rb") as handle:
        for line in handle:
            data = line.rstrip(b"\r\n")
            if not data.strip():
                continue
            result = parse_payload(plugin, data)
            if result.ok and result.events:
                last = result.events[0].ts
            key = result.events[0].device_id.encode() if result.ok and result.events else b""
            payload = Payload(
                deliver_at=last,
                vendor=vendor,
                key=key,
                data=data,
                events=len(result.events),
                corrupted=not result.ok,
            )
            yield ParsedPayload(payload, result)


def parsed_payloads(
    files: list[tuple[str, Path]], registry: PluginRegistry
) -> Iterator[ParsedPayload]:
    """Every payload of `files` with its parse result, merged in event-time order."""
    streams = [_parsed(vendor, path, registry) for vendor, path in files]
    return heapq.merge(*streams, key=lambda parsed: parsed.payload.deliver_at)


def replay_payloads(files: list[tuple[str, Path]], registry: PluginRegistry) -> Iterator[Payload]:
    """Every payload of `files`, merged in event-time order."""
    return (parsed.payload for parsed in parsed_payloads(files, registry))
