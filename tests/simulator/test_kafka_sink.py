"""`KafkaSink`: payloads in record batches per partition, on a real broker."""

import asyncio
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
from aiokafka.partitioner import DefaultPartitioner

from parkflow.broker import EmbeddedBroker
from parkflow.registry import PluginRegistry
from parkflow.simulator import KafkaSink, SimulationConfig
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Transport
from parkflow.simulator.world import simulate_world
from tests.simulator.test_run import consume_all

pytestmark = pytest.mark.integration

REGISTRY = PluginRegistry.discover()
PARTITIONS = 4


@pytest.fixture
def broker():
    """A broker of each test's own: the tests read everything on the raw topics."""
    with EmbeddedBroker() as embedded:
        yield embedded


def simulated_payloads(count: int) -> list:
    config = SimulationConfig(start=datetime(2026, 11, 2, tzinfo=UTC), days=0.5, seed=4)
    world = simulate_world(config, first_facilities(config.facilities), Counter())
    return list(Transport(REGISTRY, config.faults, 4).deliver(world))[:count]


async def send_all(bootstrap: str, payloads: list, **options) -> KafkaSink:
    sink = KafkaSink(bootstrap, PARTITIONS, **options)
    await sink.open([REGISTRY.get(name) for name in REGISTRY.names()])
    for payload in payloads:
        await sink.send(payload)
    await sink.close()
    return sink


def test_every_payload_lands_once_on_its_keys_partition_in_order(broker):
    payloads = simulated_payloads(6_000)
    asyncio.run(send_all(broker.bootstrap, payloads, linger_s=0.01))
    topics = sorted({f"raw.{p.vendor}" for p in payloads})
    records = asyncio.run(consume_all(broker.bootstrap, topics, len(payloads)))

    assert Counter((r.topic, r.key, r.value) for r in records) == Counter(
        (f"raw.{p.vendor}", p.key, p.data) for p in payloads
    )
    kafka_default = DefaultPartitioner()
    every = list(range(PARTITIONS))
    for record in records:  # where a per-message producer would have put it
        assert record.partition == kafka_default(record.key, every, every)
    sent, landed = defaultdict(list), defaultdict(list)
    for payload in payloads:
        sent[f"raw.{payload.vendor}", payload.key].append(payload.data)
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        landed[record.topic, record.key].append(record.value)
    assert landed == sent  # a device's payloads to a topic in the order they were sent
    assert len({r.partition for r in records}) == PARTITIONS
    assert len(sent) > 20


def test_a_lone_payload_goes_out_after_the_linger_without_a_close(broker):
    payload = next(p for p in simulated_payloads(200) if p.vendor == "citycount")

    async def send_and_wait() -> list:
        sink = KafkaSink(broker.bootstrap, PARTITIONS, linger_s=0.05)
        await sink.open([REGISTRY.get("citycount")])
        try:
            await sink.send(payload)
            return await consume_all(broker.bootstrap, ["raw.citycount"], 1)
        finally:
            await sink.close()

    records = asyncio.run(send_and_wait())
    assert [r.value for r in records] == [payload.data]
