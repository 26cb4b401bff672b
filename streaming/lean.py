"""Lighter stand-ins for Faust defaults, plugged in through Faust's public settings.

Faust spends more per message than parsing and matching a parking event costs
(ARCHITECTURE, "What limits Faust's speed"). Three of its per-message costs buy nothing
here, and Faust's settings let an app replace each (benchmarks/RESULTS.md, "Streaming";
`benchmarks/faust_hop.py` measures them):

- `RawBytes`, the topics' schema. The default schema runs every key and value through
  the serializer registry, even with the `raw` codec, and looks the Event class up in
  the settings per message. Our topics carry bytes the agents decode themselves, so
  the event gets the message's key and value as they are.
- `OffsetsMonitor`, the app's `Monitor`. The default keeps statistics per event (a
  dict per event, its processing time, counts by stream and task) for Faust's own
  web pages. The worker reads only offsets from it: how far each partition is read
  (`streaming/backlog.py`) and its end and committed offsets (the lag on /metrics),
  which Faust records outside the per-event hooks. Those are kept; the per-event
  statistics are not.
- `MemoPartitioner`, the producer's partitioner: Kafka's default (murmur2 of the key,
  as the Java client and aiokafka compute it), remembering the hash of keys it has
  seen. aiokafka's murmur2 is pure Python (2 us a key), and the worker sends the same
  device and vehicle keys again and again.
"""

from __future__ import annotations

import random
from typing import Any

import faust
from faust.sensors import Monitor
from faust.types import TP, AppT, EventT, Message, StreamT

from parkflow.kafka import KeyPartitioner


class RawBytes(faust.Schema):
    """Keys and values exactly as on the wire (bytes, or None for a tombstone)."""

    def compile(self, app: AppT, *, default_propagate: bool = False, **_handlers: Any):
        """The decode function Faust calls per message: no codec, no model."""
        event_class = app.conf.Event

        async def decode(message: Message, *, propagate: bool = default_propagate) -> EventT:
            return event_class(app, message.key, message.value, message.headers, message)

        return decode


class OffsetsMonitor(Monitor):
    """Faust's monitor without its per-event statistics; offsets are tracked as before."""

    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        """Record how far the partition is read (and count the message)."""
        self.messages_received_total += 1
        self.tp_read_offsets[tp] = offset

    def on_stream_event_in(
        self, tp: TP, offset: int, stream: StreamT, event: EventT
    ) -> dict | None:
        """No per-event state (Faust passes None back to `on_stream_event_out`)."""
        return None

    def on_stream_event_out(
        self, tp: TP, offset: int, stream: StreamT, event: EventT, state: dict | None = None
    ) -> None:
        """Nothing to record per event."""

    def on_message_out(self, tp: TP, offset: int, message: Message) -> None:
        """Nothing to record per message."""


class MemoPartitioner:
    """Kafka's default partitioner, with each key's hash computed once (`KeyPartitioner`)."""

    def __init__(self, max_keys: int = 200_000) -> None:
        self.keys = KeyPartitioner(max_keys)

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        """The partition of `key` (a random available one for no key), as aiokafka's default."""
        if key is None:
            return random.choice(available or all_partitions)
        return all_partitions[self.keys(key, len(all_partitions))]
