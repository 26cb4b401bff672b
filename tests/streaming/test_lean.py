"""The lighter Faust stand-ins: same partitions, same bytes, the offsets the worker reads."""

import random

import faust
from aiokafka.partitioner import DefaultPartitioner
from faust.types import TP
from faust.types.tuples import Message

from streaming.lean import MemoPartitioner, OffsetsMonitor, RawBytes


def message(key: bytes | None, value: bytes | None, offset: int = 7) -> Message:
    return Message("raw.x", 3, offset, 0.0, 0, None, key, value, None, tp=TP("raw.x", 3))


def test_the_memo_partitioner_places_every_key_where_kafkas_default_does():
    rng = random.Random(5)
    memo, default = MemoPartitioner(max_keys=50), DefaultPartitioner()
    keys = [rng.randbytes(rng.randint(0, 40)) for _ in range(300)]
    for key in keys + keys:  # the second round is answered from the memo (and its clearing)
        partitions = list(range(rng.choice([1, 3, 8, 12])))
        assert memo(key, partitions, partitions) == default(key, partitions, partitions)
    assert 0 < len(memo.keys.hashes) <= 50


def test_the_memo_partitioner_spreads_keyless_records_over_available_partitions():
    memo = MemoPartitioner()
    assert {memo(None, [0, 1, 2, 3], [2, 3]) for _ in range(100)} == {2, 3}
    assert memo(None, [5], []) == 5


async def test_raw_bytes_hands_the_agents_the_bytes_on_the_wire():
    app = faust.App("lean-check", broker="kafka://127.0.0.1:1")
    decode = RawBytes(key_serializer="raw", value_serializer="raw").compile(app)
    event = await decode(message(b"FAC-001", b'{"a": 1}'))
    assert (event.key, event.value) == (b"FAC-001", b'{"a": 1}')
    assert event.message.offset == 7
    tombstone = await decode(message(b"k", None))
    assert tombstone.value is None


def test_the_offsets_monitor_tracks_how_far_each_partition_is_read():
    monitor = OffsetsMonitor()
    tp = TP("raw.x", 3)
    for offset in (4, 5, 9):
        monitor.on_message_in(tp, offset, message(None, b"", offset))
    assert monitor.tp_read_offsets[tp] == 9 and monitor.messages_received_total == 3
    assert monitor.on_stream_event_in(tp, 9, None, None) is None
    monitor.track_tp_end_offset(tp, 20)  # Faust's own bookkeeping is kept
    assert monitor.tp_end_offsets[tp] == 20
