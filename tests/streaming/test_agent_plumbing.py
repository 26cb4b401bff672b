"""The agents' plumbing without a broker: durable state, event clock, metrics text."""

from datetime import UTC, datetime, timedelta

import pytest

from streaming import clock as clock_module
from streaming.metrics import counter, inc, render

T0 = datetime(2026, 11, 16, 8, tzinfo=UTC)


class ChangelogTopic:
    """The name of a Faust table's changelog topic."""

    def get_topic_name(self):
        return "parkflow-state-changelog"


class Changelog:
    """Stands in for a Faust table: its changelog topic and the recovered data."""

    key_serializer = value_serializer = "json"

    def __init__(self):
        self.changelog_topic = ChangelogTopic()
        self.data = {}


class Delivery:
    """A batch's future: counts how many deliveries the sender has awaited."""

    def __init__(self, producer):
        self.producer = producer

    def __await__(self):
        self.producer.awaited += 1
        return iter(())


class Batch:
    """Stands in for aiokafka's BatchBuilder: holds `size` records at most."""

    def __init__(self, size):
        self.size, self.records = size, []

    def append(self, *, timestamp, key, value):
        if len(self.records) == self.size:
            return None
        self.records.append((key, value))
        return object()


class KafkaProducer:
    """Records (topic, partition, key, value, deliveries awaited before it, records in batch)."""

    def __init__(self, batch_size=1000):
        self.batch_size = batch_size
        self.sent = []
        self.awaited = 0

    def create_batch(self):
        return Batch(self.batch_size)

    async def send_batch(self, batch, topic, *, partition):
        for key, value in batch.records:
            self.sent.append((topic, partition, key, value, self.awaited, len(batch.records)))
        return Delivery(self)

    async def partitions_for(self, topic):
        return {0, 1, 2}


class Producer:
    """Faust's producer, running an aiokafka producer."""

    def __init__(self, kafka):
        self.kafka = kafka

    def _ensure_producer(self):
        return self.kafka


class App:
    def __init__(self, batch_size=1000):
        from streaming.lean import MemoPartitioner

        self.kafka = KafkaProducer(batch_size)
        self.producer = Producer(self.kafka)
        self.conf = type("Conf", (), {"producer_partitioner": MemoPartitioner()})()


@pytest.fixture
def state(monkeypatch):
    monkeypatch.setenv("PARKFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # streaming.app needs one
    from streaming.state import DurableState, PrefixedView

    table = Changelog()
    durable = DurableState(table, owner=lambda key: key.split(":", 1)[1].split("|")[0])
    return durable, PrefixedView, table


async def test_each_changed_key_is_sent_once_per_flush_last_one_alone(state):
    durable, _, _ = state
    app = App()
    for n in range(5):
        durable.note_partition(f"dev{n}", n % 2)
    for n in range(5):
        durable[f"seen:dev{n}"] = {"n": n}
        durable[f"seen:dev{n}"] = {"n": n + 1}  # changed twice, sent once
    del durable["seen:dev4"]
    await durable.flush(app)
    sent = [record[1:] for record in app.kafka.sent]
    assert len(sent) == 5
    # the last record of each partition goes alone, once the others are delivered
    assert sent[-2:] == [
        (0, b'"seen:dev4"', None, 2, 1),
        (1, b'"seen:dev3"', b'{"p":1,"v":{"n":4}}', 2, 1),
    ]
    assert all(awaited == 0 for *_, awaited, _ in sent[:3])
    await durable.flush(app)
    assert len(sent) == 5  # nothing changed since


async def test_keys_never_seen_on_a_partition_are_not_sent(state):
    durable, _, _ = state
    app = App()
    durable["seen:ghost"] = {"n": 1}
    await durable.flush(app)
    assert app.kafka.sent == []


async def test_changelog_records_are_the_bytes_a_faust_table_writes(state):
    """`flush` encodes without Faust's serializer registry; recovery decodes with it."""
    import faust

    durable, _, _ = state
    table = faust.App("bytes-check", broker="kafka://127.0.0.1:1").Table("check")
    durable.table = table
    values = {
        "seen:FAC-001-GATE-1": {"facility_id": "FAC-001", "ts": "2026-11-16T08:00:00Z"},
        "alert:dev|HIGH_POWER": {"value": 2001.5, "detail": "power 2,001.5 W > 2,000 W", "n": None},
        "seen:ÆØÅ-1": {"plate": "ÆØÅ123", "list": [1, 2.5, True]},
    }
    app = App()
    for key, value in values.items():
        durable.note_partition(key.split(":", 1)[1].split("|")[0], 2)
        durable[key] = value
    await durable.flush(app)
    topic = table.changelog_topic
    for _, _, key, value, _, _ in app.kafka.sent:
        decoded = next(k for k in values if topic.prepare_key(k, "json")[0] == key)
        expected, _ = topic.prepare_value({"p": 2, "v": values[decoded]}, "json")
        assert value == expected
    assert len(app.kafka.sent) == len(values)


async def test_the_outbox_batches_per_partition_as_faust_would_partition(state):
    from streaming.outbox import Outbox

    app = App(batch_size=2)
    outbox = Outbox(app)
    keys = [f"FAC-00{n % 4}|P{n}".encode() for n in range(9)]
    for n, key in enumerate(keys):
        await outbox.send("parking.events", key, b"v%d" % n)
    await outbox.send("changelog", b"k", None, partition=2)  # a tombstone, its own partition
    assert all(in_batch == 2 for *_, in_batch in app.kafka.sent)  # only full ones so far
    assert app.kafka.awaited == 0
    await outbox.flush()
    sent = app.kafka.sent
    assert sorted(record[3] for record in sent[:-1]) == sorted(b"v%d" % n for n in range(9))
    for _, partition, key, *_ in sent[:-1]:
        assert partition == app.conf.producer_partitioner(key, [0, 1, 2], [0, 1, 2])
    assert sent[-1] == ("changelog", 2, b"k", None, 0, 1)
    batches = sum(1 / in_batch for *_, in_batch in sent)
    assert app.kafka.awaited == round(batches)  # every batch's delivery, once


def test_state_and_its_views_pop_and_look_up_like_dicts(state):
    durable, prefixed, _ = state
    seen = prefixed(durable, "seen:")
    seen["dev1"] = {"n": 1}
    durable.changed.clear()
    assert "dev1" in seen and "seen:dev1" in durable and "dev2" not in seen and 3 not in seen
    assert seen.get("dev1") == {"n": 1} and seen.get("dev2", "none") == "none"
    assert seen.pop("dev2", None) is None and durable.changed == set()  # absent: not a change
    with pytest.raises(KeyError):
        seen.pop("dev2")
    assert seen.pop("dev1") == {"n": 1}
    assert durable.changed == {"seen:dev1"} and "dev1" not in seen


def test_rebuild_reloads_values_and_partitions(state):
    durable, prefixed, table = state
    table.data = {
        "seen:dev1": {"p": 3, "v": {"n": 7}},
        "alert:dev1|OFFLINE": {"p": 3, "v": 1},
        "seen:gone": None,
    }
    durable.rebuild()
    assert dict(prefixed(durable, "seen:")) == {"dev1": {"n": 7}}
    assert durable.partition_of == {"dev1": 3}
    assert list(prefixed(durable, "alert:")) == ["dev1|OFFLINE"]


def test_the_clock_lags_and_follows_the_wall_clock_when_idle(monkeypatch):
    wall = [1000.0]
    monkeypatch.setattr(clock_module.time, "monotonic", lambda: wall[0])
    clock = clock_module.EventClock(lag_s=5, idle_after=timedelta(seconds=30))
    assert clock.now() is None
    clock.observe(T0)
    wall[0] += 1
    clock.observe(T0 + timedelta(hours=2))  # a far-ahead topic
    assert clock.now() is None  # nothing is 5 s old yet
    wall[0] += 4.5
    assert clock.now() == T0  # what was newest 5 s ago
    wall[0] += 1
    assert clock.now() == T0 + timedelta(hours=2)
    wall[0] += 34.5  # idle 40 s: 10 s past the idle limit
    assert clock.now() == T0 + timedelta(hours=2, seconds=10)


def test_metrics_render_as_prometheus_text():
    counter("test_things_total", "Things seen.")
    inc("test_things_total", vendor="camguard")
    inc("test_things_total", 2, vendor="camguard")
    text = render([("test_lag", "Lag.", {(("topic", "raw.x"),): 4})])
    assert "# TYPE test_things_total counter" in text
    assert 'test_things_total{vendor="camguard"} 3' in text
    assert '# TYPE test_lag gauge\ntest_lag{topic="raw.x"} 4' in text


def test_occupancy_records_carry_a_facility_s_events_in_order_and_read_back(monkeypatch):
    monkeypatch.setenv("PARKFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # streaming.app needs one
    import streaming.app  # noqa: F401  (the app imports its agents)
    from parkflow.events import event_to_json
    from streaming.agents.occupancy import decode
    from streaming.normalizing import json_arrays
    from tests.core.test_lake import events

    sent = [e for e in events() if e.event_type != "payment"]
    records = list(json_arrays([event_to_json(e) for e in sent], 3))
    assert [len(decode(r)) for r in records] == [3, 1]
    assert [e for r in records for e in decode(r)] == sent
    assert decode(event_to_json(sent[0])) == [sent[0]]  # a record of one event, as before
