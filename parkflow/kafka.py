"""Kafka plumbing shared by every producer and consumer: topic names, topic creation, the
default partitioner, and record batches built per partition.

Topics are always created with explicit configs: besides being good practice,
the embedded broker (Tansu) answers describe-configs with nothing for a topic
created without them, which confuses clients that ask.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import murmur2

EVENTS_TOPIC = "parking.events"
DEADLETTER_TOPIC = "parking.deadletter"
OCCUPANCY_TOPIC = "parking.occupancy"

#: Explicit configs of every topic ParkFlow creates.
TOPIC_CONFIGS = {
    "cleanup.policy": "delete",
    "retention.ms": str(7 * 24 * 3600 * 1000),
    "retention.bytes": "-1",
}

#: A raw record's header saying when its payload was delivered, where that is not when it
#: was produced (epoch milliseconds, ASCII): `parkflow simulate` sends simulated history.
#: Not the record's timestamp: retention deletes old-timestamped records.
DELIVERED_AT_HEADER = "parkflow-delivered-at"

#: Changelog topics of the worker's tables: compacted, kept until compaction.
CHANGELOG_CONFIGS = {"cleanup.policy": "compact", "retention.ms": "-1", "retention.bytes": "-1"}


def raw_topic(vendor: str) -> str:
    """The topic a vendor's raw payloads arrive on."""
    return f"raw.{vendor}"


async def ensure_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int, replication: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(names) - existing)
        if missing:
            topics = [
                NewTopic(name, partitions, replication, topic_configs=dict(TOPIC_CONFIGS))
                for name in missing
            ]
            with contextlib.suppress(TopicAlreadyExistsError):  # another process won the race
                await admin.create_topics(topics)
        return missing
    finally:
        await admin.close()


class KeyPartitioner:
    """The partition of a key among `count`, as Kafka's default partitioner picks it (murmur2,
    as aiokafka and Faust's producer do), with each key's hash computed once."""

    def __init__(self, max_keys: int = 200_000) -> None:
        self.max_keys = max_keys
        self.hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes, count: int) -> int:
        """The partition of `key` in a topic of `count` partitions."""
        hashed = self.hashes.get(key)
        if hashed is None:
            if len(self.hashes) >= self.max_keys:
                self.hashes.clear()  # bounded memory; the keys in use come back at once
            hashed = self.hashes[key] = murmur2(key) & 0x7FFFFFFF
        return hashed % count


class PartitionBatches:
    """Encoded records appended to one aiokafka `BatchBuilder` per topic partition.

    A record then costs an append, not the delivery future, partitioner call and metadata
    check of the producer's per-message `send`. The owner submits each builder with the
    producer's `send_batch`: a full one as `append` hands it back, the others from `take()`.
    """

    def __init__(self, producer: Callable[[], Any]) -> None:
        self.producer = producer  # the running AIOKafkaProducer, asked when a batch starts
        self.building: dict[tuple[str, int], Any] = {}

    def append(
        self,
        topic: str,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any | None:
        """Add a record to its partition's builder. When that builder is full, the record
        starts a new one and the full one is returned, to be submitted before it; else None."""
        where = (topic, partition)
        record: dict[str, Any] = {"timestamp": None, "key": key, "value": value}
        if headers:
            record["headers"] = headers
        builder = self.building.get(where)
        if builder is None:
            builder = self.building[where] = self.producer().create_batch()
        if builder.append(**record) is not None:
            return None
        self.building[where] = fresh = self.producer().create_batch()
        fresh.append(**record)  # the first always fits
        return builder

    def take(self) -> dict[tuple[str, int], Any]:
        """Every builder being filled, to be submitted now; later records start new ones."""
        building, self.building = self.building, {}
        return building
