"""Importing vendor history without Kafka: the files go through the stream's own steps.

`import_files` reads vendor files (one payload per line, as `parkflow replay` sends them)
in event-time order and does in one process what the worker does:

1. each payload is parsed by its plugin; a rejected one becomes a dead letter with its reason,
   received now, at its place in the feed (`feed_time`: the newest event time of its file
   before it; a header line follows the file's first payload, `parkflow.replay`), so that it
   counts on the day of the events around it and a header line in a year-old file does not
   count against today;
2. plates are pseudonymised with the same key as the worker's;
3. the session, device and occupancy rules run over the events in event-time order, with the
   estate's capacities and max stays;
4. events, sessions, anomalies, alerts and dead letters land in the lake, and the estate's
   tables beside them, so the next dbt build (or Dagster refresh) publishes the history.

Events carry the import's time as `ingested_at`, dead letters as `received_at`: the lake says
truthfully when ParkFlow received them (the marts count such events as backfilled, not late).
Everything is held in memory until it is written (about 13 KiB an event at peak): import a
large history in slices of a few million events (a month of a mid-size city).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from parkflow.batch import Delivered, dead_letter, derive, write_tables
from parkflow.estate import Estate
from parkflow.estate.tables import write_estate_tables
from parkflow.parsing import pseudonymise_plates
from parkflow.plates import PlateHasher
from parkflow.registry import PluginRegistry
from parkflow.replay import ParsedPayload, parsed_payloads

_NUMBER = re.compile(r"\d+")
_QUOTED = re.compile(r"'[^']*'")


@dataclass
class ImportReport:
    """What an import read and wrote."""

    payloads: int = 0
    events: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    dead_letters: Counter[str] = field(default_factory=Counter)  # reason -> payloads
    unknown_facilities: Counter[str] = field(default_factory=Counter)  # id -> events
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        """Events imported per second of wall time."""
        return self.events / self.seconds if self.seconds else 0.0


def _reason_kind(reason: str) -> str:
    """A dead-letter reason without its numbers and quoted values, to count like ones together."""
    return _QUOTED.sub("'…'", _NUMBER.sub("N", reason))[:160]


def deliver_parsed(
    parsed: Iterable[ParsedPayload],
    hasher: PlateHasher | None,
    received_at: datetime,
    on_payload: Callable[[int], None] | None = None,
) -> Delivered:
    """Events (pseudonymised) and dead letters (at their place in the feed) of parsed payloads,
    all received at `received_at`."""
    delivered = Delivered()
    for item in parsed:
        payload, result = item.payload, item.result
        delivered.payloads += 1
        if on_payload:
            on_payload(len(payload.data) + 1)
        if not result.ok:
            letter = dead_letter(
                payload,
                result.error or "rejected",
                received_at=received_at,
                feed_time=item.feed_time,
                mask=hasher is not None,
            )
            delivered.dead_letters.append(letter)
            continue
        events = pseudonymise_plates(result.events, hasher) if hasher else result.events
        delivered.events += [e.model_copy(update={"ingested_at": received_at}) for e in events]
    return delivered


def import_files(
    files: list[tuple[str, Path]],
    registry: PluginRegistry,
    data_dir: Path,
    estate: Estate,
    *,
    plate_key: bytes | None,
    on_payload: Callable[[int], None] | None = None,
) -> ImportReport:
    """Run the (vendor, file) pairs through plugins and rules into the lake under `data_dir`."""
    started = time.perf_counter()
    hasher = PlateHasher(plate_key) if plate_key else None
    parsed = parsed_payloads(files, registry)
    delivered = deliver_parsed(parsed, hasher, datetime.now(UTC), on_payload)
    derived = derive(delivered.events, estate.facilities)
    tables = {
        "events": delivered.events,
        "sessions": derived.sessions,
        "anomalies": derived.anomalies,
        "alerts": derived.alerts,
        "deadletter": delivered.dead_letters,
    }
    rows, _ = write_tables(data_dir, tables)
    write_estate_tables(estate, data_dir)
    known = estate.by_id
    return ImportReport(
        payloads=delivered.payloads,
        events=len(delivered.events),
        rows=rows,
        dead_letters=Counter(_reason_kind(d.reason) for d in delivered.dead_letters),
        unknown_facilities=Counter(
            e.facility_id for e in delivered.events if e.facility_id not in known
        ),
        seconds=time.perf_counter() - started,
    )
