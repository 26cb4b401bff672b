"""The embedded broker: a real Kafka-protocol server on a local port, cleanly stopped."""

import asyncio
import socket

import pytest

from parkflow.broker import EmbeddedBroker
from parkflow.kafka import TOPIC_CONFIGS, ensure_topics


@pytest.mark.integration
def test_topics_are_created_once_with_explicit_configs():
    with EmbeddedBroker() as broker:
        created = asyncio.run(ensure_topics(broker.bootstrap, ["raw.a", "raw.b"], partitions=3))
        again = asyncio.run(ensure_topics(broker.bootstrap, ["raw.a", "raw.c"], partitions=3))
        assert created == ["raw.a", "raw.b"]
        assert again == ["raw.c"]
        port = broker.port
    with socket.socket() as sock:  # the port is released after stop
        sock.bind(("127.0.0.1", port))
    assert TOPIC_CONFIGS["retention.bytes"] == "-1"
