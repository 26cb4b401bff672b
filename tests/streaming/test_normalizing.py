"""The normalize step's work on a batch, against the plain functions it stands for."""

from collections import Counter, defaultdict
from datetime import UTC, datetime
from types import SimpleNamespace

import orjson
import pyarrow as pa
import pytest
from aiokafka.partitioner import DefaultPartitioner

from parkflow.events import event_to_json
from parkflow.lake import EVENTS, LakeWriter, event_row, read_table
from parkflow.parsing import FeedClock, parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from parkflow.registry import PluginRegistry
from parkflow.simulator import SimulationConfig
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Transport
from parkflow.simulator.world import simulate_world
from streaming.keys import partition_key
from streaming.normalizing import EVENTS_RECORD_LINES, OCCUPANCY_TYPES, Normalizer

REGISTRY = PluginRegistry.discover()
KEY = b"test-key-" * 4
MAX_BYTES = 64 * 1024


def simulated_payloads(hours: float = 6, seed: int = 3) -> list[tuple[str, bytes]]:
    """What two facilities' devices send in `hours`, faults included, plus three rejects."""
    config = SimulationConfig(
        start=datetime(2026, 11, 9, tzinfo=UTC), days=hours / 24, facilities=2, seed=seed
    )
    world = simulate_world(config, first_facilities(2), Counter())
    sent = [(p.vendor, p.data) for p in Transport(REGISTRY, config.faults, seed).deliver(world)]
    rejects = [("camguard", b"{not json"), ("voltwatch", b"x" * (MAX_BYTES + 1)), ("baynode", b"")]
    return sent[:50] + rejects + sent[50:]


def as_read(encoded: bytes) -> dict:
    """An event's JSON as a dict, without the time it was parsed at (it differs per run)."""
    value = orjson.loads(encoded)
    value.pop("ingested_at")
    return value


def comparable(batch) -> dict:
    """What a batch holds, without parse times, and with each facility's occupancy records
    joined (a batch parsed in parts sends a facility's events in more records, in order)."""
    occupancy = defaultdict(list)
    for facility, record in batch.occupancy:
        occupancy[facility] += [as_read(orjson.dumps(value)) for value in orjson.loads(record)]
    return {
        "events": events_by_partition(batch),
        "occupancy": dict(occupancy),
        "lake": {group: [*map(as_read, block.split(b"\n"))] for group, block in batch.lake.items()},
        "counts": (batch.event_types, batch.parsed),
        "rejected": batch.rejected,
        "newest": batch.newest,
    }


def events_by_partition(batch) -> dict[int, list[dict]]:
    """The events of a batch's parking.events records, per partition, in order."""
    sent = defaultdict(list)
    for partition, lines in batch.events:
        sent[partition] += [as_read(line) for line in lines.split(b"\n")]
    return dict(sent)


@pytest.fixture(scope="module")
def payloads():
    return simulated_payloads()


def reference(payloads, hasher):
    """Per payload: its pseudonymised events, or the reason it was rejected."""
    out = []
    for vendor, data in payloads:
        result = parse_payload(REGISTRY.get(vendor), data, max_bytes=MAX_BYTES)
        if result.error:
            out.append(result.error)
        else:
            out.append(pseudonymise_plates(result.events, hasher) if hasher else result.events)
    return out


def places_in_feed(payloads, expected) -> tuple[list[tuple], dict]:
    """The rejects as (index, reason, vendor, newest event time of the vendor before it), and
    the newest event time per vendor."""
    newest, rejected = {}, []
    for index, ((vendor, _), item) in enumerate(zip(payloads, expected, strict=True)):
        if isinstance(item, str):
            rejected.append((index, item, vendor, newest.get(vendor)))
        elif item:
            newest[vendor] = max([newest.get(vendor, item[0].ts), *(e.ts for e in item)])
    return rejected, newest


def test_a_batch_gives_what_parsing_each_payload_gives(payloads):
    hasher = PlateHasher(KEY)
    batch = Normalizer(REGISTRY, PlateHasher(KEY), MAX_BYTES).normalize(payloads, partitions=8)
    expected = reference(payloads, hasher)
    events = [e for item in expected if not isinstance(item, str) for e in item]
    rejected, newest = places_in_feed(payloads, expected)

    assert len(events) > 1000 and len(rejected) >= 3
    # each event on the partition Kafka's default partitioner gives its key, in order
    partitions, by_partition = list(range(8)), defaultdict(list)
    for event in events:
        partition = DefaultPartitioner()(partition_key(event), partitions, partitions)
        by_partition[partition].append(as_read(event_to_json(event)))
    assert events_by_partition(batch) == by_partition
    assert len(by_partition) == 8
    assert max(lines.count(b"\n") + 1 for _, lines in batch.events) == EVENTS_RECORD_LINES
    assert batch.rejected == rejected
    # no camguard payload before the first reject: nothing to place it after
    assert [feed_time is None for *_, feed_time in rejected[:3]] == [True, False, False]
    assert batch.newest == newest
    assert batch.event_count == len(events)
    assert batch.event_types == Counter(e.event_type.value for e in events)
    parsed = Counter(payloads[i][0] for i, item in enumerate(expected) if not isinstance(item, str))
    assert batch.parsed == parsed


def test_occupancy_records_are_each_facility_s_counted_events_in_order(payloads):
    batch = Normalizer(REGISTRY, PlateHasher(KEY), MAX_BYTES).normalize(payloads)
    expected = defaultdict(list)
    for item in reference(payloads, PlateHasher(KEY)):
        for event in [] if isinstance(item, str) else item:
            if event.event_type in OCCUPANCY_TYPES:
                expected[event.facility_id.encode()].append(as_read(event_to_json(event)))
    assert comparable(batch)["occupancy"] == expected
    assert len(expected) == 2
    assert max(len(record) for _, record in batch.occupancy) < 1024 * 1024


def test_the_lake_lines_land_as_the_events_rows(payloads, tmp_path):
    batch = Normalizer(REGISTRY, None, MAX_BYTES).normalize(payloads)
    LakeWriter(tmp_path).write_event_lines(batch.lake)
    landed = read_table(tmp_path, "events").drop_columns(["ingested_at"])
    events = [e for item in reference(payloads, None) if not isinstance(item, str) for e in item]
    rows = pa.Table.from_pylist([event_row(e) for e in events], schema=EVENTS)
    expected = rows.drop_columns(["ingested_at"]).sort_by("event_id").to_pylist()
    assert landed.sort_by("event_id").to_pylist() == expected
    assert any(e.plate for e in events if hasattr(e, "plate"))  # no hasher: plates as read


@pytest.mark.parametrize("cut", [1, 97, 200])
def test_batches_normalized_in_parts_and_extended_equal_the_whole(payloads, cut):
    normalizer = Normalizer(REGISTRY, PlateHasher(KEY), MAX_BYTES)
    whole = normalizer.normalize(payloads[:300], partitions=3)
    first = normalizer.normalize(payloads[:cut], partitions=3)
    rest = normalizer.normalize(payloads[cut:300], partitions=3)
    first.extend(rest, offset=cut)
    assert comparable(first) == comparable(whole)


def test_a_split_just_before_a_reject_keeps_its_place_in_the_feed(payloads):
    normalizer = Normalizer(REGISTRY, None, MAX_BYTES)
    whole = normalizer.normalize(payloads[:60])
    first, rest = normalizer.normalize(payloads[:51]), normalizer.normalize(payloads[51:60])
    assert rest.rejected[0].feed_time is None  # no voltwatch event in its own part
    first.extend(rest, offset=51)
    assert first.rejected == whole.rejected
    assert first.newest == whole.newest


def test_the_worker_places_dead_letters_after_the_events_of_earlier_batches(payloads, monkeypatch):
    """The normalize agent's dead letters: `feed_time` is the newest event time this worker
    parsed before them from the same raw partition, in earlier batches too; none after a
    (re)start, and none from another partition of the vendor (read at its own speed)."""
    monkeypatch.setenv("PARKFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # streaming.app needs one
    import streaming.app  # noqa: F401  (the app imports its agents)
    from streaming.agents.normalize import dead_letters

    normalizer = Normalizer(REGISTRY, None, MAX_BYTES)
    earlier, rejects = payloads[:50], payloads[50:53]  # rejects: camguard, voltwatch, baynode

    def read_from(batch, partition=0):
        return [
            SimpleNamespace(
                message=SimpleNamespace(topic=f"raw.{v}", partition=partition, offset=i)
            )
            for i, (v, _) in enumerate(batch)
        ]

    messages = read_from(rejects)
    clock = FeedClock()
    assert (
        dead_letters(normalizer.normalize(earlier), earlier, read_from(earlier), clock, True) == []
    )
    letters = dead_letters(normalizer.normalize(rejects), rejects, messages, clock, mask=True)
    _, newest = places_in_feed(earlier, reference(earlier, None))
    assert [(d.source, d.feed_time) for d in letters] == [
        ("camguard", None),  # no camguard payload in the earlier batch
        ("voltwatch", newest["voltwatch"]),
        ("baynode", newest["baynode"]),
    ]
    assert all(d.received_at > d.feed_time for d in letters[1:])  # the simulated day is past
    assert [d.offset for d in letters] == [0, 1, 2]
    restarted = dead_letters(normalizer.normalize(rejects), rejects, messages, FeedClock(), True)
    assert [d.feed_time for d in restarted] == [None, None, None]
    assert [d.dead_letter_id for d in restarted] == [d.dead_letter_id for d in letters]
    elsewhere = dead_letters(
        normalizer.normalize(rejects), rejects, read_from(rejects, 1), clock, True
    )
    assert [d.feed_time for d in elsewhere] == [None, None, None]


def test_the_lake_lines_carry_when_each_payload_was_received_and_kafka_does_not(payloads, tmp_path):
    received = [1_762_000_000.0 + i if i % 3 else None for i in range(len(payloads))]
    batch = Normalizer(REGISTRY, None, MAX_BYTES).normalize(payloads, received=received)
    LakeWriter(tmp_path).write_event_lines(batch.lake)
    landed = read_table(tmp_path, "events").to_pylist()
    expected = {}
    for index, item in enumerate(reference(payloads, None)):
        for event in [] if isinstance(item, str) else item:
            at = received[index]
            expected[event.event_id] = None if at is None else datetime.fromtimestamp(at, UTC)
    assert {r["event_id"]: r["received_at"] for r in landed} == expected
    assert any(expected.values()) and None in expected.values()
    # the records sent on are canonical events, which have no such field
    for _, lines in batch.events:
        assert all(b"received_at" not in line for line in lines.split(b"\n"))


def test_a_payload_is_received_when_its_sender_says_else_when_its_record_was_produced(
    monkeypatch,
):
    monkeypatch.setenv("PARKFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # streaming.app needs one
    import streaming.app  # noqa: F401  (the app imports its agents)
    from parkflow.kafka import DELIVERED_AT_HEADER
    from streaming.agents.normalize import received_time

    def message(timestamp, kind=0, headers=()):
        return SimpleNamespace(timestamp=timestamp, timestamp_type=kind, headers=list(headers))

    now = 1_765_000_000.0
    stamped = [(DELIVERED_AT_HEADER, b"1762000000123")]
    assert received_time(message(now - 5, headers=stamped), now) == 1_762_000_000.123
    assert received_time(message(now - 5), now) == now - 5  # the producer's CreateTime
    assert received_time(message(now + 3600), now) == now  # a sender's clock ahead: now
    assert received_time(message(now - 5, kind=1), now) is None  # the broker's LogAppendTime
    assert received_time(message(now - 5, headers=[(DELIVERED_AT_HEADER, b"soon")]), now) == now - 5
