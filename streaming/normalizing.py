"""What the normalize agent makes of a batch of vendor payloads, with no Faust in it.

`Normalizer.normalize` parses each payload with its vendor's plugin (`parse_payload`
never raises), pseudonymises the plates, keys and encodes every event, and returns
plain bytes and counts: the records for parking.events and parking.occupancy, the
events' JSON lines for the lake, and the payloads it rejected with their place in the
feed (`Rejected.feed_time`). The agent only sends and lands them, so the parsing can run
in a process of its own (`streaming/parsers.py`) and the result crosses back cheaply.

A parking.events record carries up to `EVENTS_RECORD_LINES` events of one partition as
JSON lines, in order: each event goes to the partition of its key (`streaming.keys`), as
a record of its own would, but Faust's per-message work (fetching, queueing, iterating,
acknowledging: most of what a worker did per event) is paid once per record.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from parkflow.events import EventType, event_to_json
from parkflow.kafka import KeyPartitioner
from parkflow.lake import EventLines, received_suffix
from parkflow.parsing import FeedClock, parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from parkflow.registry import PluginRegistry
from streaming.keys import partition_key

#: Event types the occupancy agent counts (parking.occupancy).
OCCUPANCY_TYPES = {EventType.ENTRY, EventType.EXIT, EventType.BAY_STATUS, EventType.OCCUPANCY_COUNT}
#: Events per parking.occupancy record at most (~300 bytes each: well inside a Kafka record).
OCCUPANCY_RECORD_EVENTS = 1000
#: Events per parking.events record at most (~400 bytes each: a record stays inside the
#: producer's 256 KiB batches and far below Kafka's 1 MB message limit).
EVENTS_RECORD_LINES = 500

#: A payload as the agent hands it over: (vendor, bytes).
Payload = tuple[str, bytes]


class Rejected(NamedTuple):
    """A payload that did not parse: its index in the batch, why, and its place in the feed
    (the newest event time of its vendor parsed before it in the batch; None: none was)."""

    index: int
    reason: str
    vendor: str
    feed_time: datetime | None


@dataclass(slots=True)
class NormalizedBatch:
    """A batch of payloads as records to send, lines to land, counts and rejects."""

    #: (partition, its events' JSON lines, in the payloads' order) for parking.events
    events: list[tuple[int, bytes]] = field(default_factory=list)
    #: how many events the batch gave
    event_count: int = 0
    #: (facility, JSON array of its events, in order) for parking.occupancy
    occupancy: list[tuple[bytes, bytes]] = field(default_factory=list)
    #: the events for lake/raw/events (`EventLines.joined()`)
    lake: dict[tuple[str, bool], bytes] = field(default_factory=dict)
    #: events, by type
    event_types: Counter[str] = field(default_factory=Counter)
    #: payloads that gave events, by vendor
    parsed: Counter[str] = field(default_factory=Counter)
    #: the payloads that did not parse
    rejected: list[Rejected] = field(default_factory=list)
    #: the newest event time parsed per vendor (`FeedClock.newest`)
    newest: dict[str, datetime] = field(default_factory=dict)
    #: per payload, in order, the newest time of its events (None: rejected, or no event)
    payload_newest: list[datetime | None] = field(default_factory=list)

    def extend(self, later: NormalizedBatch, offset: int) -> None:
        """Append the result of the payloads that followed (the first at index `offset`)."""
        self.events += later.events  # a partition's later records follow its earlier ones
        self.event_count += later.event_count
        self.occupancy += later.occupancy
        for group, block in later.lake.items():
            self.lake[group] = self.lake[group] + b"\n" + block if group in self.lake else block
        self.event_types += later.event_types
        self.parsed += later.parsed
        clock = FeedClock(self.newest)  # a later part's rejects follow this part's events
        self.rejected += [
            r._replace(index=offset + r.index, feed_time=clock.feed_time(r.vendor, r.feed_time))
            for r in later.rejected
        ]
        clock.update(later.newest)
        self.newest = clock.newest
        self.payload_newest += later.payload_newest


class Normalizer:
    """Vendor payloads -> canonical events, keyed, encoded and grouped for sending and landing."""

    def __init__(
        self, plugins: PluginRegistry, hasher: PlateHasher | None, max_payload_bytes: int
    ) -> None:
        self.plugins = plugins
        self.hasher = hasher
        self.max_payload_bytes = max_payload_bytes
        self.partitioner = KeyPartitioner()

    def normalize(
        self,
        payloads: Sequence[Payload],
        partitions: int = 1,
        received: Sequence[float | None] | None = None,
    ) -> NormalizedBatch:
        """Parse, pseudonymise, key and encode every payload's events; note the rejects.
        `partitions` is parking.events' partition count; `received`, per payload, when it
        reached its raw topic (epoch seconds, None: not known), the lake's `received_at`."""
        result = NormalizedBatch()
        lines = EventLines()
        counted: dict[str, list[bytes]] = defaultdict(list)  # facility -> its events' JSON
        sent: dict[int, list[bytes]] = defaultdict(list)  # partition -> its events' JSON
        partition_of = self.partitioner
        clock = FeedClock()
        for index, (vendor, payload) in enumerate(payloads):
            parsed = parse_payload(
                self.plugins.get(vendor), payload, max_bytes=self.max_payload_bytes
            )
            if parsed.error is not None:
                feed_time = clock.feed_time(vendor)
                result.rejected.append(Rejected(index, parsed.error, vendor, feed_time))
                result.payload_newest.append(None)
                continue
            result.parsed[vendor] += 1
            events = parsed.events
            newest = max(event.ts for event in events) if events else None
            result.payload_newest.append(newest)
            if newest is not None:
                clock.advance(vendor, newest)
            if self.hasher is not None:
                events = pseudonymise_plates(events, self.hasher)
            at = received[index] if received is not None else None
            suffix = received_suffix(datetime.fromtimestamp(at, UTC)) if at is not None else b""
            for event in events:
                encoded = event_to_json(event)
                sent[partition_of(partition_key(event), partitions)].append(encoded)
                lines.add(event, encoded, suffix)
                if event.event_type in OCCUPANCY_TYPES:
                    counted[event.facility_id].append(encoded)
                result.event_types[event.event_type.value] += 1
        result.event_count = lines.count
        result.newest = clock.newest
        result.lake = lines.joined()
        result.events = [
            (partition, b"\n".join(encoded[start : start + EVENTS_RECORD_LINES]))
            for partition, encoded in sent.items()
            for start in range(0, len(encoded), EVENTS_RECORD_LINES)
        ]
        result.occupancy = [
            (facility.encode(), record)
            for facility, encoded_events in counted.items()
            for record in json_arrays(encoded_events, OCCUPANCY_RECORD_EVENTS)
        ]
        return result


def json_arrays(encoded: list[bytes], size: int) -> Iterator[bytes]:
    """JSON values -> JSON arrays of at most `size` of them, in order."""
    for start in range(0, len(encoded), size):
        yield b"[" + b",".join(encoded[start : start + size]) + b"]"
