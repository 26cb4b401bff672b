"""The lake against the plain matcher: what "every session exactly once" means, checked.

The sessions table of the lake is at-least-once with versions: the matcher emits a session
again (higher `version`) whenever it changes, and a crash can write a batch twice. The marts
keep the newest version of each session id (`stg_sessions`). So the lake is right when

- the newest version of every session equals what the plain matcher
  (`streaming.rules.sessions.match_stream`) makes of the same events: none missing,
  none extra, none different;
- no (session id, version) pair was written with two different contents: otherwise the
  version the marts keep would be a matter of chance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from parkflow.events import CanonicalEvent, EventType, event_from_dict
from parkflow.lake import read_table
from parkflow.parsing import parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from parkflow.records import SessionRecord
from parkflow.registry import PluginRegistry
from parkflow.simulator.transport import Payload
from streaming.rules.sessions import latest_versions, match_stream
from tests.worker_process import PLATE_KEY

Outcome = tuple


def session_outcomes(sessions: Iterable[SessionRecord]) -> dict[str, Outcome]:
    """session id -> what a session came to (status, exit, amount paid, duration)."""
    return {
        s.session_id: (s.status, s.exit_event_id, s.amount_paid, s.duration_s) for s in sessions
    }


def payload_events(payloads: Iterable[Payload], registry: PluginRegistry) -> list[list[str]]:
    """Per payload, the ids of the events the worker makes of it (none for a dead letter)."""
    ids = []
    for payload in payloads:
        result = parse_payload(registry.get(payload.vendor), payload.data)
        ids.append([e.event_id for e in result.events] if result.ok else [])
    return ids


def expected_events(payloads: Iterable[Payload], registry: PluginRegistry) -> list[CanonicalEvent]:
    """The distinct canonical events of `payloads` as the worker lands them (plates hashed
    with the tests' key), in the order they were sent: the input of the plain matcher.

    Delivery order, not (ts, event id): when a vehicle's exit and its next entry share a
    second, only the order they were sent in says which came first.
    """
    hasher = PlateHasher(PLATE_KEY.encode())
    events: dict[str, CanonicalEvent] = {}
    for payload in payloads:
        result = parse_payload(registry.get(payload.vendor), payload.data)
        if result.ok:
            for event in pseudonymise_plates(result.events, hasher):
                events.setdefault(event.event_id, event)
    return list(events.values())


def same_second_reentries(events: Iterable[CanonicalEvent]) -> list[tuple[str, str, object]]:
    """(facility, plate, ts) where a vehicle's exit and an entry of the same plate share a
    second. The matcher's outcome then depends on which it processes first, and a worker
    reading the two cameras from different partitions may take either: such input cannot
    be compared with a replay exactly."""
    kinds = (EventType.ENTRY, EventType.EXIT)
    reads = {(e.facility_id, e.plate, e.ts, e.event_type) for e in events if e.event_type in kinds}
    return sorted(
        (facility, plate, ts)
        for facility, plate, ts, kind in reads
        if kind is EventType.ENTRY and (facility, plate, ts, EventType.EXIT) in reads
    )


def lake_event_dicts(data_dir: Path) -> Iterator[dict]:
    """Lake rows back into canonical-event dicts (the lake renames a bay's `occupied`, and adds
    when the payload was received, `received_at`, which is no event field)."""
    for row in read_table(data_dir, "events").to_pylist():
        row = {k: v for k, v in row.items() if v is not None and k != "received_at"}
        if row["event_type"] == "bay_status":
            row["occupied"] = row.pop("bay_occupied")
        row["flags"] = tuple(row.get("flags") or ())
        yield row


def lake_events(data_dir: Path) -> list[CanonicalEvent]:
    """The distinct events of the lake, in event-time order."""
    events = {e.event_id: e for e in map(event_from_dict, lake_event_dicts(data_dir))}
    return sorted(events.values(), key=lambda e: (e.ts, e.event_id))


def lake_session_rows(data_dir: Path) -> list[SessionRecord]:
    """Every session row of the lake, every version, re-deliveries included."""
    rows = read_table(data_dir, "sessions").drop_columns(["landed_at"]).to_pylist()
    return [SessionRecord.model_validate(r) for r in rows]


def lake_sessions(data_dir: Path) -> dict[str, SessionRecord]:
    """The newest version of each session in the lake (what the marts keep)."""
    return latest_versions(lake_session_rows(data_dir))


@dataclass
class SessionCheck:
    """How the lake's sessions compare with the plain matcher's."""

    expected: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    different: dict[str, tuple[Outcome | None, Outcome | None]] = field(default_factory=dict)
    conflicting: list[tuple[str, int]] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        """True when every session is in the lake exactly once, as the matcher has it."""
        return not (self.missing or self.extra or self.different or self.conflicting)

    def summary(self) -> str:
        """One line for a failure message or a benchmark."""
        example = list(self.different.items())[:3]
        return (
            f"{self.expected} sessions expected, {self.rows} session rows in the lake: "
            f"missing {len(self.missing)}, extra {len(self.extra)}, different "
            f"{len(self.different)} (e.g. {example}), conflicting versions {len(self.conflicting)}"
        )


def conflicting_versions(rows: Iterable[SessionRecord]) -> list[tuple[str, int]]:
    """(session id, version) pairs written with different contents (ignoring `updated_at`)."""
    contents: dict[tuple[str, int], set[str]] = defaultdict(set)
    for row in rows:
        contents[(row.session_id, row.version)].add(row.model_dump_json(exclude={"updated_at"}))
    return sorted(key for key, seen in contents.items() if len(seen) > 1)


def check_sessions(data_dir: Path, events: list[CanonicalEvent]) -> SessionCheck:
    """Compare the lake's sessions with the plain matcher over `events` (in arrival order)."""
    expected = session_outcomes(latest_versions(match_stream(events).sessions).values())
    rows = lake_session_rows(data_dir)
    got = session_outcomes(latest_versions(rows).values())
    return SessionCheck(
        expected=len(expected),
        missing=sorted(expected.keys() - got.keys()),
        extra=sorted(got.keys() - expected.keys()),
        different={
            key: (expected[key], got[key])
            for key in expected.keys() & got.keys()
            if expected[key] != got[key]
        },
        conflicting=conflicting_versions(rows),
        rows=len(rows),
    )
