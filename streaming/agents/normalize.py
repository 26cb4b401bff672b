"""normalize: vendor payloads on raw.<vendor> -> canonical events on parking.events.

The batch's events are landed in lake/raw/events before its offsets are
acknowledged. Entries, exits, bay states and counts also go to parking.occupancy keyed by
facility, so one worker counts a whole facility (and its capacity alerts are
right) however many workers share the load: there, one record carries a batch's events of
one facility (a JSON array, in order), as every record costs the occupancy agent Faust's
per-message work however small it is.

The plugin parses (`parse_payload` never raises), plates are pseudonymised
before anything leaves this step, and each event is keyed so that what belongs
together shares a partition. A payload that cannot be parsed goes to
parking.deadletter with its vendor, reason, bytes and offsets.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from operator import attrgetter

from parkflow.events import CanonicalEvent, EventType, event_to_json
from parkflow.kafka import DEADLETTER_TOPIC, EVENTS_TOPIC, OCCUPANCY_TOPIC
from parkflow.parsing import DeadLetter, parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from streaming import metrics, topics
from streaming.app import app, plugins, settings
from streaming.keys import partition_key
from streaming.outbox import Outbox
from streaming.sink import land

log = logging.getLogger(__name__)
OCCUPANCY_TYPES = {EventType.ENTRY, EventType.EXIT, EventType.BAY_STATUS, EventType.OCCUPANCY_COUNT}
#: Events per parking.occupancy record at most (~300 bytes each: well inside a Kafka record).
OCCUPANCY_RECORD_EVENTS = 1000
_event_type = attrgetter("event_type")
hasher = PlateHasher(settings.resolve_plate_key()) if settings.hash_plates else None


@app.agent(topics.raw)
async def normalize(stream) -> None:
    """Parse, pseudonymise and key every payload; dead-letter the ones that do not parse.

    The events of a batch are landed in the lake here, where they are already
    objects, rather than by another agent re-reading parking.events (measured).
    """
    outbox = Outbox(app)
    async for batch in stream.take_events(settings.sink_max_rows, within=settings.sink_flush_s):
        landing: list[CanonicalEvent] = []
        counted: dict[str, list[bytes]] = defaultdict(list)  # facility -> its events' JSON
        payloads: Counter[tuple[str, str]] = Counter()  # (vendor, outcome): counted per batch
        for event in batch:
            message = event.message
            vendor = message.topic.removeprefix("raw.")
            payload = message.value or b""
            result = parse_payload(
                plugins.get(vendor), payload, max_bytes=settings.max_payload_bytes
            )
            if not result.ok:
                letter = DeadLetter.of(
                    vendor,
                    payload,
                    result.error,
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                    mask=hasher is not None,  # a clear plate may hide in what did not parse
                )
                letter_json = letter.model_dump_json().encode()
                await outbox.send(DEADLETTER_TOPIC, vendor.encode(), letter_json)
                payloads[vendor, "dead_letter"] += 1
                continue
            payloads[vendor, "parsed"] += 1
            events = pseudonymise_plates(result.events, hasher) if hasher else result.events
            landing += events
            for canonical in events:
                encoded = event_to_json(canonical)
                await outbox.send(EVENTS_TOPIC, partition_key(canonical), encoded)
                if canonical.event_type in OCCUPANCY_TYPES:
                    counted[canonical.facility_id].append(encoded)
        for facility, encoded_events in counted.items():
            for record in json_arrays(encoded_events, OCCUPANCY_RECORD_EVENTS):
                await outbox.send(OCCUPANCY_TOPIC, facility.encode(), record)
        await land("events", landing)
        for (vendor, outcome), count in payloads.items():
            metrics.inc("parkflow_payloads_total", count, vendor=vendor, outcome=outcome)
        for event_type, count in Counter(map(_event_type, landing)).items():
            metrics.inc("parkflow_events_total", count, type=event_type.value)
        await outbox.flush()  # both before the batch is acknowledged


def json_arrays(encoded: list[bytes], size: int) -> Iterator[bytes]:
    """JSON values -> JSON arrays of at most `size` of them, in order."""
    for start in range(0, len(encoded), size):
        yield b"[" + b",".join(encoded[start : start + size]) + b"]"
