"""normalize: vendor payloads on raw.<vendor> -> canonical events on parking.events.

The plugin parses (`parse_payload` never raises), plates are pseudonymised
before anything leaves this step, and each event is keyed so that what belongs
together shares a partition. A payload that cannot be parsed goes to
parking.deadletter with its vendor, reason, bytes and offsets.
"""

from __future__ import annotations

import logging

from parkflow.events import event_to_json
from parkflow.parsing import DeadLetter, parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from streaming import topics
from streaming.app import app, plugins, settings
from streaming.keys import partition_key

log = logging.getLogger(__name__)
hasher = PlateHasher(settings.resolve_plate_key()) if settings.hash_plates else None


@app.agent(topics.raw)
async def normalize(stream) -> None:
    """Parse, pseudonymise and key every payload; dead-letter the ones that do not parse."""
    async for batch in stream.take_events(5000, within=0.2):
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
                )
                await topics.deadletter.send(key=vendor.encode(), value=letter.model_dump_json())
                continue
            events = pseudonymise_plates(result.events, hasher) if hasher else result.events
            for canonical in events:
                await topics.events.send(
                    key=partition_key(canonical), value=event_to_json(canonical)
                )
