"""`parkflow worker` creates its topics itself, with the configured partitions."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from parkflow.broker import EmbeddedBroker
from parkflow.cli.worker import create_topics
from parkflow.settings import Settings


async def partitions_of(bootstrap: str, topics: list[str]) -> dict[str, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()  # loads the metadata of every topic
        return {topic: len(consumer.partitions_for_topic(topic) or ()) for topic in topics}
    finally:
        await consumer.stop()


@pytest.mark.integration
def test_the_worker_topics_get_the_configured_partitions():
    with EmbeddedBroker() as broker:
        created = create_topics(broker.bootstrap, ["camguard"], Settings(partitions=8))
        assert created == [
            "parking.deadletter",
            "parking.events",
            "parking.occupancy",
            "raw.camguard",
        ]
        found = asyncio.run(partitions_of(broker.bootstrap, created))
        assert found == dict.fromkeys(created, 8)
        assert create_topics(broker.bootstrap, ["camguard"], Settings(partitions=8)) == []


def test_unreachable_kafka_is_reported_not_raised(capsys):
    assert create_topics("127.0.0.1:1", ["camguard"], Settings()) == []
    assert "could not create the topics on 127.0.0.1:1" in capsys.readouterr().out
