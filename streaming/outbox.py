"""Records an agent sends in a batch, straight to the Kafka producer, awaited once per batch.

Faust's `Topic.send` and `Table.send_changelog` go one message at a time through
its producer buffer (100 messages; the stream pauses when it is full), which
held the worker near 1,000 events/s here (benchmarks/RESULTS.md). The Kafka
client batches by itself: an `Outbox` hands it already encoded bytes and keeps
the delivery futures, and `flush()` waits for them all before the agent lets
its input batch be acknowledged (at-least-once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import faust


class Outbox:
    """Pending sends of one agent; `flush()` returns once the broker has every one."""

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self.pending: list[Awaitable] = []

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        """Queue a record; the client's partitioner picks the partition when none is given."""
        self.pending.append(await self.app.producer.send(topic, key, value, partition, None, None))

    async def flush(self) -> None:
        """Wait until every queued record is acknowledged by the broker."""
        if self.pending:
            pending, self.pending = self.pending, []
            await asyncio.gather(*pending)
