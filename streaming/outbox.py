"""Records an agent sends in a batch, built into Kafka record batches, awaited once per batch.

Faust's `Topic.send` and `Table.send_changelog` go one message at a time through
its producer buffer (100 messages; the stream pauses when it is full), which
held the worker near 1,000 events/s here (benchmarks/RESULTS.md). Handing each
record to the Kafka client's `send` still costs a delivery future, a partitioner
call and a metadata check per record (~8 us). An `Outbox` appends already encoded
bytes to one aiokafka `BatchBuilder` per topic and partition
(`parkflow.kafka.PartitionBatches`), submits each batch when it is full or at `flush()`
(~2 us a record), and `flush()` returns once the
broker has acknowledged every batch: the agent lets its input batch be
acknowledged only then (at-least-once).
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust

from parkflow.kafka import PartitionBatches


class Outbox:
    """Pending sends of one agent; `flush()` returns once the broker has every one."""

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self.partitioner = app.conf.producer_partitioner
        self.batches = PartitionBatches(self._client)
        self.pending: list[asyncio.Future] = []
        self.partitions: dict[str, list[int]] = {}  # per flush: metadata may change

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        """Queue a record; the app's partitioner picks the partition when none is given."""
        if partition is None:
            partitions = await self.partitions_of(topic)
            partition = self.partitioner(key, partitions, partitions)
        full = self.batches.append(topic, partition, key, value)
        if full is not None:
            await self._submit(topic, partition, full)

    async def send_all(self, topic: str, records: list[tuple[bytes, bytes]]) -> None:
        """Queue (key, value) records, in order, each to its key's partition."""
        partitions = await self.partitions_of(topic)
        partition_of, append = self.partitioner, self.batches.append
        for key, value in records:
            partition = partition_of(key, partitions, partitions)
            full = append(topic, partition, key, value)
            if full is not None:
                await self._submit(topic, partition, full)

    async def flush(self) -> None:
        """Send what is queued and wait until the broker has acknowledged every record."""
        for (topic, partition), builder in self.batches.take().items():
            await self._submit(topic, partition, builder)
        self.partitions.clear()
        if self.pending:
            pending, self.pending = self.pending, []
            await asyncio.gather(*pending)

    def _client(self) -> Any:
        """The running aiokafka producer under Faust's (its batch API is not wrapped)."""
        return self.app.producer._ensure_producer()

    async def _submit(self, topic: str, partition: int, builder: Any) -> None:
        self.pending.append(await self._client().send_batch(builder, topic, partition=partition))

    async def partitions_of(self, topic: str) -> list[int]:
        """The topic's partitions, from the client's metadata (the partitioner picks one of
        them as Faust's own producer would: Kafka's default partitioning)."""
        known = self.partitions.get(topic)
        if known is None:
            known = self.partitions[topic] = sorted(await self._client().partitions_for(topic))
        return known
