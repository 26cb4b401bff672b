"""Reading vendor files (one payload per line) in event-time order, for replay and import.

Payloads from several files are merged in event-time order, each file keeping its
own order (a payload delivered late in the file stays late). A line that is exactly the
plugin's `header_line` (a CSV export's header, wherever exports were concatenated) is
skipped: it is part of the file, not a payload. Each payload's time
is that of its first event, as its plugin parses it; a payload that does not
parse (a CSV header line, a corrupted line) keeps the time of the one before it and
is sent as is, so the pipeline dead-letters it as it would in production. The ones that
open a file (a header line) travel right after the file's first payload with events
(if they are no more than `LEADING_LINES`; else they go first, in order), so that the
pipeline dates their dead letters in the file's history like the events around them,
not on the day of the replay.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from parkflow.parsing import ParseResult, later_of, parse_payload
from parkflow.registry import PluginRegistry
from parkflow.simulator.transport import Payload

#: The time of a payload that opens its file without an event and could not wait for one:
#: before every other.
EARLIEST = datetime.min.replace(tzinfo=UTC)
#: Payloads without events that open a file wait for its first event if at most this many.
LEADING_LINES = 1000


@dataclass(frozen=True, slots=True)
class ParsedPayload:
    """One line of a vendor file, and what its plugin made of it; `feed_time` is the newest
    event time of the file before it (None when there is none): a dead letter's place in
    its feed."""

    payload: Payload
    result: ParseResult
    feed_time: datetime | None = None


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
    header = plugin.header_line.encode() if plugin.header_line else None
    last = EARLIEST
    newest: datetime | None = None  # the newest event time of the file so far
    leading: list[ParsedPayload] = []  # payloads opening the file, waiting for its first event
    waiting = True
    with path.open("rb") as handle:
        for line in handle:
            data = line.rstrip(b"\r\n")
            if not data.strip() or data == header:  # an export's header: no payload of its own
                continue
            result = parse_payload(plugin, data)
            events = result.events if result.ok else []
            if events:
                last = events[0].ts
            payload = Payload(
                deliver_at=last,
                vendor=vendor,
                key=events[0].device_id.encode() if events else b"",
                data=data,
                events=len(events),
                corrupted=not result.ok,
            )
            parsed = ParsedPayload(payload, result, newest)
            if not events and newest is None and waiting:
                leading.append(parsed)
                if len(leading) == LEADING_LINES:  # too many to hold: first, in order
                    yield from leading
                    leading.clear()
                    waiting = False
                continue
            yield parsed
            newest = later_of(newest, *(event.ts for event in events))
            if leading and newest is not None:  # the file's first event: they follow it
                for held in leading:
                    moved = replace(held.payload, deliver_at=last)
                    yield replace(held, payload=moved, feed_time=newest)
                leading.clear()
    yield from leading  # a file without any event


def parsed_payloads(
    files: list[tuple[str, Path]], registry: PluginRegistry
) -> Iterator[ParsedPayload]:
    """Every payload of `files` with its parse result, merged in event-time order."""
    streams = [_parsed(vendor, path, registry) for vendor, path in files]
    return heapq.merge(*streams, key=lambda parsed: parsed.payload.deliver_at)


def replay_payloads(files: list[tuple[str, Path]], registry: PluginRegistry) -> Iterator[Payload]:
    """Every payload of `files`, merged in event-time order."""
    return (parsed.payload for parsed in parsed_payloads(files, registry))
