"""Kafka plumbing shared by every producer and consumer: topic names and topic creation.

Topics are always created with explicit configs: besides being good practice,
the embedded broker (Tansu) answers describe-configs with nothing for a topic
created without them, which confuses clients that ask.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

EVENTS_TOPIC = "parking.events"
DEADLETTER_TOPIC = "parking.deadletter"
OCCUPANCY_TOPIC = "parking.occupancy"

#: Explicit configs of every topic ParkFlow creates.
TOPIC_CONFIGS = {
    "cleanup.policy": "delete",
    "retention.ms": str(7 * 24 * 3600 * 1000),
    "retention.bytes": "-1",
}

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
