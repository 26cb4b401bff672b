"""normalize: vendor payloads on raw.<vendor> -> canonical events on parking.events.

The parsing itself is `streaming.normalizing.Normalizer`, run in the worker's
parser processes (`streaming/parsers.py`): the plugin parses (`parse_payload` never
raises), plates are pseudonymised before anything leaves this step, and each event
is keyed so that what belongs together shares a partition. This agent sends what
comes back: the events to parking.events (JSON lines, up to 500 events of one partition
in a record: `streaming/normalizing.py`); entries, exits, bay states and counts
also to parking.occupancy keyed by facility, so one worker counts a whole facility
(and its capacity alerts are right) however many workers share the load. There,
one record carries a batch's events of one facility (a JSON array, in order), as
every record costs the occupancy agent Faust's per-message work however small it
is. A payload that cannot be parsed goes to parking.deadletter with its vendor,
reason, bytes and offsets, and its place in the feed: the newest event time of its vendor
that this worker had parsed before it (`feed_time`; none after a start until one is).

The batch's events are landed in lake/raw/events, and every record is acknowledged
by the broker, before the batch's offsets are (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial

from faust.types import EventT, Message

from parkflow.kafka import DEADLETTER_TOPIC, DELIVERED_AT_HEADER, EVENTS_TOPIC, OCCUPANCY_TOPIC
from parkflow.parsing import DeadLetter, FeedClock
from streaming import metrics, topics
from streaming.app import app, plugins, settings
from streaming.batching import acknowledge, worked_ahead
from streaming.normalizing import NormalizedBatch
from streaming.outbox import Outbox
from streaming.parsers import Parsers
from streaming.sink import land_event_lines

log = logging.getLogger(__name__)
parsers = Parsers(
    settings.parse_processes,
    plugins,
    settings.resolve_plate_key() if settings.hash_plates else None,
    settings.max_payload_bytes,
    settings.worker_gc_threshold,
)
#: Per vendor, the newest event time this worker parsed: where its dead letters are in the feed.
feed_clock = FeedClock()
#: Kafka's timestamp type of a time stamped by the record's producer (1: by the broker).
CREATE_TIME = 0


@app.agent(topics.raw)
async def normalize(stream) -> None:
    """Parse, pseudonymise and key every payload; dead-letter the ones that do not parse.

    Batches overlap: the parser processes start on the next batch as soon as it is taken
    (`worked_ahead`), while this agent sends what came back for one batch and the one
    before is landed, flushed and acknowledged. Records are sent batch after batch, so the
    order on each partition is the order read; each batch is acknowledged only once its
    events are in the lake and the broker has its records (at-least-once).
    """
    outbox = Outbox(app)
    await parsers.start()
    finishing: asyncio.Task | None = None  # the previous batch's landing and acknowledgement
    try:
        taken = stream.noack_take(settings.sink_max_rows, within=settings.sink_flush_s)
        async for batch, (payloads, normalized) in worked_ahead(taken, partial(_parse, outbox)):
            if finishing is not None:
                await finishing
            await _send(outbox, normalized, payloads, batch)
            finishing = asyncio.create_task(_finish(outbox, batch, normalized))
        if finishing is not None:
            await finishing
    finally:
        if finishing is not None and not finishing.done():
            finishing.cancel()  # not acknowledged: read again after a restart
        await parsers.stop()


async def _parse(
    outbox: Outbox, batch: list[EventT]
) -> tuple[list[tuple[str, bytes]], NormalizedBatch]:
    """A batch's (vendor, payload) pairs, and what the parser processes made of them."""
    payloads = [(e.message.topic.removeprefix("raw."), e.message.value or b"") for e in batch]
    now = time.time()
    received = [received_time(e.message, now) for e in batch]
    partitions = len(await outbox.partitions_of(EVENTS_TOPIC))
    return payloads, await parsers.normalize(payloads, partitions, received)


def received_time(message: Message, now: float) -> float | None:
    """When a payload reached ParkFlow, in epoch seconds, never later than `now`: the time
    its sender says it delivered it (`parkflow simulate`'s simulated history carries it in a
    header, `DELIVERED_AT_HEADER`), else its record's CreateTime (what the producer stamped:
    the ingest API, a replay, a gateway); None for a broker's LogAppendTime.

    The lake keeps it as `received_at`, which the data-quality mart measures lateness by: a
    backlog the worker reads later is not late delivery (`ingested_at` is when it landed)."""
    for name, value in message.headers or ():
        if name == DELIVERED_AT_HEADER:
            try:
                return min(int(value) / 1000, now)
            except ValueError:
                break  # not a time: the record's own
    if message.timestamp_type != CREATE_TIME or not message.timestamp:
        return None
    return min(message.timestamp, now)


async def _send(
    outbox: Outbox,
    normalized: NormalizedBatch,
    payloads: list[tuple[str, bytes]],
    batch: list[EventT],
) -> None:
    """Queue the batch's events, occupancy records and dead letters, in order."""
    for partition, lines in normalized.events:
        await outbox.send(EVENTS_TOPIC, None, lines, partition)
    await outbox.send_all(OCCUPANCY_TOPIC, normalized.occupancy)
    for letter in dead_letters(normalized, payloads, batch, feed_clock, settings.hash_plates):
        vendor = letter.source.encode()
        await outbox.send(DEADLETTER_TOPIC, vendor, letter.model_dump_json().encode())


def dead_letters(
    normalized: NormalizedBatch,
    payloads: list[tuple[str, bytes]],
    batch: list[EventT],
    clock: FeedClock,
    mask: bool,
) -> list[DeadLetter]:
    """The batch's dead letters, each at its place in its feed: the newest event time this
    worker parsed before it from the same raw partition (`clock`, keyed by topic and
    partition, takes in this batch's events as it goes). Per partition: in a backlog the
    partitions of one vendor are read at different speeds, and another partition's newest
    event is no place for it. `mask`: a clear plate may hide in what did not parse."""
    rejected = {r.index: r for r in normalized.rejected}
    letters = []
    for index, newest in enumerate(normalized.payload_newest):
        if newest is None and index not in rejected:
            continue  # a payload without events moves no clock
        message = batch[index].message
        feed = f"{message.topic}:{message.partition}"
        reject = rejected.get(index)
        if reject is None:
            clock.advance(feed, newest)
            continue
        letters.append(
            DeadLetter.of(
                reject.vendor,
                payloads[index][1],
                reject.reason,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                mask=mask,
                feed_time=clock.feed_time(feed),
            )
        )
    return letters


async def _finish(
    outbox: Outbox,
    batch: list[EventT],
    normalized: NormalizedBatch,
) -> None:
    """Land the batch's events and flush its records, then acknowledge it."""
    await asyncio.gather(land_event_lines(normalized.lake, normalized.event_count), outbox.flush())
    _count(normalized)
    acknowledge(batch)


def _count(normalized: NormalizedBatch) -> None:
    for vendor, count in normalized.parsed.items():
        metrics.inc("parkflow_payloads_total", count, vendor=vendor, outcome="parsed")
    for rejected in normalized.rejected:
        metrics.inc("parkflow_payloads_total", vendor=rejected.vendor, outcome="dead_letter")
    for event_type, count in normalized.event_types.items():
        metrics.inc("parkflow_events_total", count, type=event_type)
