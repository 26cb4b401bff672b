"""Side by side: ParkFlow's Faust worker, quixstreams and bare aiokafka on the same pipeline.

One invocation runs three contenders one after the other, each on a fresh embedded broker
(Tansu) with the same input: simulated vendor payloads of the six catalogue facilities with
the default transit faults, cut after `--events` canonical events (default 200,000). Each
contender runs the same two-stage topology in one process:

1. raw.<vendor> -> plugin parse (`parse_payload`), plates pseudonymised with the tests' key
   -> canonical event JSON on an events topic, keyed by `streaming.keys.partition_key`;
2. events topic -> the plain `SessionMatcher` over a dict -> sessions (and anomalies)
   written as Parquet files with `LakeWriter` under the contender's own data dir.

Contenders:

- faust: `parkflow worker` (the real pipeline: it also lands events, counts occupancy and
  watches devices), started as `benchmarks/stream.py` starts it;
- quixstreams: one `Application`, a StreamingDataFrame per raw topic -> the events topic,
  one on the events topic -> matching -> a sink writing one Parquet file per checkpoint;
- aiokafka: a consume-parse-produce task and a consume-match-write task in one asyncio loop.

The peers run the matcher's timers as the Faust agent does (`streaming.clock.EventClock`,
every second, held while a raw or events partition is more than 200 records behind).

Phase 1, throughput: the payloads are loaded into the raw topics, then the contender starts;
the clock runs from its start until the newest version of every session in its Parquet
output equals what `match_stream` makes of the same events (session id, status, entry and
exit times, amount paid). Phase 2, latency: payloads sent at a fixed `--rate`; per entry or
exit payload, the time from its send to the mtime of the first Parquet file holding its
session (entry: the session id; exit: the exit event id).

Exit code 1 when a contender's sessions differ from the plain matcher's.

    .venv/bin/python benchmarks/peers.py [--events 200000] [--rate 5000] [--latency-seconds 20]
        [--contenders faust,quixstreams,aiokafka] [--profile DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stream import PARTITIONS, parsed, payloads, produce, worker_cpu_and_rss
from parkflow.broker import EmbeddedBroker
from parkflow.events import EventType, event_from_json, event_to_json
from parkflow.kafka import TOPIC_CONFIGS, ensure_topics, raw_topic
from parkflow.lake import LakeWriter, read_table, table_files
from parkflow.parsing import parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from parkflow.records import AnomalyRecord, SessionRecord
from parkflow.registry import PluginRegistry
from parkflow.simulator.transport import Payload
from streaming.clock import EventClock
from streaming.keys import partition_key
from streaming.rules.sessions import (
    MatchResult,
    SessionMatcher,
    is_session_part,
    latest_versions,
    match_stream,
)
from tests.worker_process import PLATE_KEY, WorkerProcess

REGISTRY = PluginRegistry.discover()
CONTENDERS = ("faust", "quixstreams", "aiokafka")
#: The peers' events topic (each contender has a broker of its own).
EVENTS_TOPIC = "peers.events"
#: Seconds between Parquet flushes of the peers (the Faust sessions agent batches 0.2 s).
FLUSH_S = 0.2
#: Consumer settings as the Faust worker's (`parkflow.settings`): Tansu holds a JoinGroup for
#: half the session timeout, and a fetch waits at most this long for data.
SESSION_TIMEOUT_MS = 6000
FETCH_MAX_WAIT_MS = 100
#: Longest the aiokafka contender waits for the broker to acknowledge a batch of events.
SEND_TIMEOUT_S = 60.0
#: Seconds between timer runs, and the lag (raw or events) that holds them (as `streaming.backlog`).
TICK_S = 1.0
MAX_LAG = 200
#: Cheap skip of events that are no session part (as the Faust sessions agent does).
SESSION_MARKERS = (b'"event_type":"entry"', b'"event_type":"exit"', b'"event_type":"payment"')
#: Canonical events a simulated day at the six catalogue facilities gives, roughly.
EVENTS_PER_DAY = 43_000
PAYLOADS_PER_DAY = 40_000
#: Seconds without a new session file after which a contender's output counts as final.
SETTLE_S = 10.0

#: The key columns compared: status, entry ts, exit ts, amount paid.
Row = tuple[str, datetime, datetime | None, Decimal]
ROW_COLUMNS = ("status", "entry_ts", "exit_ts", "amount_paid")


# --- the two stages of the peers (plain Python, shared by quixstreams and aiokafka) ------------


class Normalizer:
    """Stage 1: a vendor payload -> (Kafka key, canonical event JSON) per event it holds."""

    def __init__(self, plate_key: bytes) -> None:
        self.hasher = PlateHasher(plate_key)

    def pairs(self, vendor: str, payload: bytes) -> list[tuple[bytes, bytes]]:
        """The keyed events of a payload; none when it does not parse (Faust dead-letters it)."""
        result = parse_payload(REGISTRY.get(vendor), payload)
        if not result.ok:
            return []
        events = pseudonymise_plates(result.events, self.hasher)
        return [(partition_key(event), event_to_json(event)) for event in events]


class Matching:
    """Stage 2: canonical events -> sessions and anomalies, timers as the Faust agent runs them.

    The plain `SessionMatcher` over a dict; a lock lets a timer thread share it.
    """

    def __init__(self, data_dir: Path) -> None:
        self.matcher = SessionMatcher({})
        self.clock = EventClock()
        self.writer = LakeWriter(data_dir)
        self.lock = threading.Lock()

    def on_event(self, value: bytes, at: str) -> MatchResult | None:
        """Match one canonical event read from position `at`; None for non-session events."""
        if not any(marker in value for marker in SESSION_MARKERS):
            return None
        event = event_from_json(value)
        if not is_session_part(event):
            return None
        with self.lock:
            result = self.matcher.on_event(event, at=at)
            self.clock.observe(event.ts)
        return result

    def tick(self, catching_up: bool) -> MatchResult:
        """Run the timers at the clock's event time, unless stage 1 is catching up."""
        now = self.clock.now()
        if now is None or catching_up:
            return MatchResult()
        with self.lock:
            return self.matcher.advance(now)

    def write(self, records: Iterable[SessionRecord | AnomalyRecord]) -> None:
        """Sessions and anomalies to Parquet (one file per table and date)."""
        records = list(records)
        sessions = [r for r in records if isinstance(r, SessionRecord)]
        anomalies = [r for r in records if isinstance(r, AnomalyRecord)]
        if sessions:
            self.writer.write("sessions", sessions)
        if anomalies:
            self.writer.write("anomalies", anomalies)


class GroupLag:
    """How far a consumer group's committed offsets are behind the ends of its topics
    (a client of its own, not in the group: safe to call from a timer thread)."""

    def __init__(self, bootstrap: str, group: str, topics: Iterable[str]) -> None:
        from confluent_kafka import Consumer, TopicPartition

        self.consumer = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
        )
        found = self.consumer.list_topics(timeout=10).topics  # also loads their metadata
        self.partitions = [TopicPartition(t, p) for t in topics for p in found[t].partitions]

    def behind(self) -> list[int]:
        """Records not committed yet, per partition."""
        committed = self.consumer.committed(self.partitions, timeout=10)
        ends = [self.consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in committed]
        return [end - max(tp.offset, 0) for tp, end in zip(committed, ends, strict=True)]

    def close(self) -> None:
        """Close the client."""
        self.consumer.close()

    def catching_up(self) -> bool:
        """More than `MAX_LAG` records behind on a partition (timers hold, as in the worker)."""
        return max(self.behind()) > MAX_LAG


def raw_topics() -> list[str]:
    """The raw topics, one per vendor plugin."""
    return [raw_topic(name) for name in REGISTRY.names()]


def records_of(result: MatchResult | None) -> list[SessionRecord | AnomalyRecord]:
    """The rows a match result lands."""
    return [*result.sessions, *result.anomalies] if result else []


# --- contender: quixstreams ------------------------------------------------------------------


def run_quixstreams(bootstrap: str, data_dir: Path, group: str) -> None:
    """Both stages in one quixstreams Application (runs until SIGTERM)."""
    from quixstreams import Application
    from quixstreams.models import TopicConfig
    from quixstreams.models.serializers import Serializer
    from quixstreams.sinks import BaseSink

    class SecondOfPair(Serializer):
        """Serializes the value of a (key, value) pair made by stage 1."""

        def __call__(self, value: tuple[bytes, bytes], ctx: Any) -> bytes:
            return value[1]

    class ParquetSink(BaseSink):
        """Rows of a checkpoint to one Parquet file per table and date, on commit."""

        def __init__(self, matching: Matching) -> None:
            super().__init__()
            self.matching = matching
            self.rows: list[SessionRecord | AnomalyRecord] = []

        def add(self, value: Any, key: Any, *args: Any, **kwargs: Any) -> None:
            self.rows.append(value)

        def flush(self) -> None:
            rows, self.rows = self.rows, []
            self.matching.write(rows)

        def on_paused(self) -> None:
            self.rows = []

    config = TopicConfig(
        num_partitions=PARTITIONS, replication_factor=1, extra_config=dict(TOPIC_CONFIGS)
    )
    app = Application(
        broker_address=bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        commit_interval=FLUSH_S,
        use_changelog_topics=False,
        loglevel="WARNING",
        consumer_extra_config={
            "session.timeout.ms": SESSION_TIMEOUT_MS,
            "heartbeat.interval.ms": SESSION_TIMEOUT_MS // 3,
            "fetch.wait.max.ms": FETCH_MAX_WAIT_MS,
        },
    )
    normalizer, matching = Normalizer(PLATE_KEY.encode()), Matching(data_dir)
    events = app.topic(
        EVENTS_TOPIC, value_deserializer="bytes", value_serializer=SecondOfPair(), config=config
    )
    for vendor in REGISTRY.names():
        raw = app.topic(raw_topic(vendor), value_deserializer="bytes", config=config)
        parse = functools.partial(normalizer.pairs, vendor)
        app.dataframe(raw).apply(parse, expand=True).to_topic(events, key=lambda pair: pair[0])

    def match(value: bytes) -> list[SessionRecord | AnomalyRecord]:
        from quixstreams import message_context

        context = message_context()
        return records_of(
            matching.on_event(value, f"{context.topic}:{context.partition}:{context.offset}")
        )

    app.dataframe(events).apply(match, expand=True).sink(ParquetSink(matching))
    start_timer_thread(
        matching, GroupLag(bootstrap, group, [*raw_topics(), EVENTS_TOPIC]).catching_up
    )
    app.run()


def start_timer_thread(matching: Matching, backlog: Callable[[], bool]) -> None:
    """Run the matcher's timers every `TICK_S` in a daemon thread, landing what they emit."""

    def loop() -> None:
        while True:
            time.sleep(TICK_S)
            matching.write(records_of(matching.tick(backlog())))

    threading.Thread(target=loop, name="timers", daemon=True).start()


# --- contender: bare aiokafka ----------------------------------------------------------------


def aio_consumer(bootstrap: str, group: str, *topics: str) -> Any:
    """A consumer from the earliest offset that commits only when told."""
    from aiokafka import AIOKafkaConsumer

    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=SESSION_TIMEOUT_MS // 3,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )


async def aio_normalize(bootstrap: str, group: str, producer: Any) -> None:
    """Stage 1: consume raw payloads, parse, produce events; commit once they are sent."""
    normalizer = Normalizer(PLATE_KEY.encode())
    consumer = aio_consumer(bootstrap, group, *raw_topics())
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=int(FLUSH_S * 1000), max_records=5000)
            sent = []
            for tp, messages in batches.items():
                vendor = tp.topic.removeprefix("raw.")
                for message in messages:
                    for key, value in normalizer.pairs(vendor, message.value):
                        sent.append(await producer.send(EVENTS_TOPIC, value, key=key))
            if batches:  # a send the broker never answers fails the run instead of hanging it
                await asyncio.wait_for(asyncio.gather(*sent), SEND_TIMEOUT_S)
                await consumer.commit()
    finally:
        await consumer.stop()


async def aio_match(bootstrap: str, group: str, matching: Matching) -> None:
    """Stage 2: consume events, match, land the batch's rows; commit once they are written."""
    consumer = aio_consumer(bootstrap, group, EVENTS_TOPIC)
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=int(FLUSH_S * 1000), max_records=5000)
            rows: list[SessionRecord | AnomalyRecord] = []
            for tp, messages in batches.items():
                for message in messages:
                    at = f"{tp.topic}:{tp.partition}:{message.offset}"
                    rows += records_of(matching.on_event(message.value, at))
            if batches:
                await asyncio.to_thread(matching.write, rows)
                await consumer.commit()
    finally:
        await consumer.stop()


async def aio_timers(matching: Matching, backlogs: list[GroupLag]) -> None:
    """The matcher's timers every `TICK_S` (held while either stage is catching up)."""
    while True:
        await asyncio.sleep(TICK_S)
        catching_up = await asyncio.to_thread(lambda: any(b.catching_up() for b in backlogs))
        await asyncio.to_thread(matching.write, records_of(matching.tick(catching_up)))


async def run_aiokafka_async(bootstrap: str, data_dir: Path, group: str) -> None:
    """Both stages and the timers in one asyncio loop (runs until cancelled)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=256 * 1024, acks=1
    )
    await producer.start()
    matching = Matching(data_dir)
    tasks = [
        aio_normalize(bootstrap, f"{group}-normalize", producer),
        aio_match(bootstrap, f"{group}-match", matching),
        aio_timers(
            matching,
            [
                GroupLag(bootstrap, f"{group}-normalize", raw_topics()),
                GroupLag(bootstrap, f"{group}-match", [EVENTS_TOPIC]),
            ],
        ),
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        await producer.stop()


def run_aiokafka(bootstrap: str, data_dir: Path, group: str) -> None:
    """Run the aiokafka contender until SIGTERM."""
    loop = asyncio.new_event_loop()
    main = loop.create_task(run_aiokafka_async(bootstrap, data_dir, group))
    loop.add_signal_handler(signal.SIGTERM, main.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        loop.run_until_complete(main)


PEERS: dict[str, Callable[[str, Path, str], None]] = {
    "quixstreams": run_quixstreams,
    "aiokafka": run_aiokafka,
}


# --- the driver: processes, input, expected sessions, lake reading -----------------------------


class PeerProcess:
    """A peer contender as a subprocess of this script (`.process` as `WorkerProcess` has)."""

    def __init__(self, name: str, bootstrap: str, data_dir: Path, group: str) -> None:
        self.log = data_dir / f"{name}.log"
        command = [sys.executable, str(Path(__file__).resolve()), "--peer", name]
        command += ["--bootstrap", bootstrap, "--data-dir", str(data_dir), "--group", group]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> int:
        """SIGTERM, then SIGKILL of the group after 15 s; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


Process = WorkerProcess | PeerProcess


def start_contender(name: str, bootstrap: str, data_dir: Path) -> Process:
    """Start a contender's process (with a fresh consumer group) and return at once."""
    if name == "faust":
        return WorkerProcess(bootstrap, data_dir).spawn()
    return PeerProcess(name, bootstrap, data_dir, f"peers-{name}-{uuid.uuid4().hex[:8]}")


def check_alive(process: Process) -> None:
    """Raise with the end of its log when a contender's process has exited."""
    if process.process.poll() is not None:
        raise RuntimeError(f"contender exited: {process.log.read_text()[-3000:]}")


def stream_input(events: int, seed: int, start: datetime) -> list[Payload]:
    """Simulated payloads in delivery order, cut after `events` canonical events."""
    days = min(366.0, events / EVENTS_PER_DAY * 1.2 + 0.1)
    cut, total = [], 0
    for payload in payloads(days, 6, seed, start):
        if total >= events:
            break
        cut.append(payload)
        total += payload.events
    return cut


def expected_outcome(stream: list[Payload]) -> tuple[int, dict[str, Row], Counter[str]]:
    """Distinct canonical events, the plain matcher's sessions (newest versions) and its
    anomalies by type."""
    hasher = PlateHasher(PLATE_KEY.encode())
    events = [e for p in stream for e in pseudonymise_plates(parsed(p), hasher)]
    result = match_stream(events)
    rows = {
        sid: (s.status.value, s.entry_ts, s.exit_ts, s.amount_paid)
        for sid, s in latest_versions(result.sessions).items()
    }
    kinds = {a.anomaly_id: a.anomaly_type.value for a in result.anomalies}
    return len({e.event_id for e in events}), rows, Counter(kinds.values())


def lake_anomalies(data_dir: Path) -> Counter[str]:
    """A contender's anomalies by type (distinct anomaly ids)."""
    rows = read_table(data_dir, "anomalies").select(["anomaly_id", "anomaly_type"]).to_pylist()
    return Counter({r["anomaly_id"]: r["anomaly_type"] for r in rows}.values())


@dataclass
class SessionLake:
    """A contender's session files as they land, each new file read once."""

    data_dir: Path
    files: set[Path] = field(default_factory=set)
    newest: dict[str, tuple[int, Row]] = field(default_factory=dict)  # id -> (version, row)
    entry_at: dict[str, float] = field(default_factory=dict)  # session id -> earliest file mtime
    exit_at: dict[str, float] = field(default_factory=dict)  # exit event id -> earliest mtime
    first_file: float | None = None
    last_file: float = 0.0  # wall time a new file was last found

    COLUMNS = ("session_id", "version", "status", "entry_ts", "exit_ts", "amount_paid")

    def poll(self) -> None:
        """Read the files that appeared since the last poll."""
        for path in table_files(self.data_dir, "sessions"):
            if path not in self.files:
                self._read(path)

    def rows(self) -> dict[str, Row]:
        """The newest version of each session: id -> key columns."""
        return {sid: row for sid, (_, row) in self.newest.items()}

    def _read(self, path: Path) -> None:
        mtime = path.stat().st_mtime
        self.files.add(path)
        self.first_file = min(self.first_file or mtime, mtime)
        self.last_file = time.time()
        table = pq.read_table(path, columns=[*self.COLUMNS, "exit_event_id"])
        for sid, version, status, entry, exit_, amount, exit_id in zip(
            *(column.to_pylist() for column in table.columns), strict=True
        ):
            self.entry_at[sid] = min(self.entry_at.get(sid, mtime), mtime)
            if exit_id is not None:
                self.exit_at[exit_id] = min(self.exit_at.get(exit_id, mtime), mtime)
            kept = self.newest.get(sid)
            if kept is None or version > kept[0]:
                self.newest[sid] = (version, (status, entry, exit_, amount))


@dataclass
class Mismatch:
    """How a contender's sessions differ from the plain matcher's."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    different: dict[str, tuple[Row, Row]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the session ids and their key columns are identical."""
        return not (self.missing or self.extra or self.different)

    def summary(self) -> str:
        """One line: identical, or what differs."""
        if self.ok:
            return "identical"
        columns = Counter(
            name
            for want, got in self.different.values()
            for name, a, b in zip(ROW_COLUMNS, want, got, strict=True)
            if a != b
        )
        which = ", ".join(f"{name} {count}" for name, count in columns.most_common())
        return (
            f"DIFFERENT: missing {len(self.missing)}, extra {len(self.extra)}, "
            f"different rows {len(self.different)}" + (f" ({which})" if which else "")
        )


def compare(expected: dict[str, Row], got: dict[str, Row]) -> Mismatch:
    """Newest session versions against the expected ones."""
    return Mismatch(
        missing=sorted(expected.keys() - got.keys()),
        extra=sorted(got.keys() - expected.keys()),
        different={
            sid: (expected[sid], got[sid])
            for sid in expected.keys() & got.keys()
            if expected[sid] != got[sid]
        },
    )


def wait_for_sessions(
    lake: SessionLake, expected: dict[str, Row], process: Process, timeout: float
) -> tuple[float, Mismatch]:
    """Poll the lake until its sessions equal the expected ones, or differ while the contender
    has written nothing and been idle (under 10% of a core) for `SETTLE_S`: its input is
    read and its timers had their turn. The wall time of that, and the comparison."""
    deadline = time.monotonic() + timeout
    cpu = [(time.time(), worker_cpu_and_rss([process])[0])]
    while True:
        check_alive(process)
        lake.poll()
        now = time.time()
        cpu.append((now, worker_cpu_and_rss([process])[0]))
        if expected.keys() <= lake.newest.keys():
            mismatch = compare(expected, lake.rows())
            if mismatch.ok:
                return now, mismatch
            before = [used for at, used in cpu if at <= now - SETTLE_S]
            idle = bool(before) and cpu[-1][1] - before[-1] < 0.1 * SETTLE_S
            if idle and now - lake.last_file > SETTLE_S:
                return lake.last_file, mismatch
        if time.monotonic() > deadline:
            return now, compare(expected, lake.rows())
        time.sleep(0.5)


# --- the two phases ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one contender measured."""

    name: str
    events: int
    seconds: float = 0.0
    cpu_s: float = 0.0
    rss_mib: float = 0.0
    first_file_s: float = 0.0
    mismatch: Mismatch = field(default_factory=Mismatch)
    rows: dict[str, Row] = field(default_factory=dict)  # its sessions after phase 1
    anomalies: Counter[str] = field(default_factory=Counter)  # by type, after phase 1
    rate: float = 0.0
    latencies: list[float] = field(default_factory=list)
    not_landed: int = 0

    @property
    def events_per_s(self) -> float:
        """Canonical events per second of the throughput phase, from the contender's start."""
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def running_events_per_s(self) -> float:
        """The same from its first session file on (start-up left out)."""
        running = self.seconds - self.first_file_s
        return self.events / running if running > 0 else 0.0

    def percentile(self, share: float) -> float | None:
        """A latency percentile in seconds (None without latencies)."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[max(0, int(len(ordered) * share) - 1)]


@dataclass
class Workload:
    """The input of both phases and what the throughput phase must produce."""

    stream: list[Payload]
    events: int
    expected: dict[str, Row]
    anomalies: Counter[str]
    live: list[Payload]
    targets: list[tuple[EventType, str] | None]  # per live payload: its entry or exit id


def workload(args: argparse.Namespace) -> Workload:
    """Simulate both phases' payloads and replay the plain matcher over the first."""
    stream = stream_input(args.events, args.seed, datetime(2026, 10, 1, tzinfo=UTC))
    events, expected, anomalies = expected_outcome(stream)
    count = int(args.rate * args.latency_seconds)
    live_days = count / PAYLOADS_PER_DAY * 1.2 + 0.1
    live = payloads(live_days, 6, args.seed + 1, datetime(2026, 11, 1, tzinfo=UTC))[:count]
    targets = []
    for payload in live:
        kinds = [(e.event_type, e.event_id) for e in parsed(payload)]
        gate = [k for k in kinds if k[0] in (EventType.ENTRY, EventType.EXIT)]
        targets.append(gate[0] if gate else None)
    return Workload(stream, events, expected, anomalies, live, targets)


def load(name: str, work: Workload, broker: EmbeddedBroker) -> None:
    """Put the throughput input into the raw topics (and create the peers' events topic)."""
    asyncio.run(produce(broker.bootstrap, work.stream))
    if name != "faust":
        asyncio.run(ensure_topics(broker.bootstrap, [EVENTS_TOPIC], partitions=PARTITIONS))


def throughput(
    name: str,
    work: Workload,
    process: Process,
    lake: SessionLake,
    started: float,
    args: argparse.Namespace,
) -> Outcome:
    """Phase 1: time the contender from its start to the last session in its Parquet files."""
    profiler = start_profiler(process, args.profile, name)
    try:
        done, mismatch = wait_for_sessions(lake, work.expected, process, args.timeout)
    finally:
        stop_profiler(profiler)
    cpu, _ = worker_cpu_and_rss([process])
    outcome = Outcome(name, work.events, done - started, cpu, mismatch=mismatch)
    outcome.rows, outcome.anomalies = lake.rows(), lake_anomalies(lake.data_dir)
    outcome.first_file_s = (lake.first_file or done) - started
    print(
        f"{name}: {work.events:,} events ({len(work.stream):,} payloads, "
        f"{len(work.expected):,} sessions) in {outcome.seconds:.1f} s "
        f"(first session file after {outcome.first_file_s:.1f} s) -> "
        f"{outcome.events_per_s:,.0f} events/s ({outcome.running_events_per_s:,.0f} from the "
        f"first file on); CPU {cpu / work.events * 1e5:.1f} s per 100K "
        f"events; sessions vs match_stream: {mismatch.summary()}",
        flush=True,
    )
    if not mismatch.ok:  # the contender has settled: its anomalies are all there too
        print(f"  {name} anomalies by type: {dict(outcome.anomalies)}", flush=True)
    return outcome


def latency(
    outcome: Outcome,
    work: Workload,
    broker: EmbeddedBroker,
    lake: SessionLake,
    process: Process,
    rate: float,
) -> None:
    """Phase 2: send at a fixed rate; per entry or exit payload, send to its session file."""
    if not work.live:
        return
    sent_at = asyncio.run(produce(broker.bootstrap, work.live, rate=rate))
    outcome.rate = len(work.live) / max(sent_at[-1] - sent_at[0], 1e-9)
    entries = {t[1] for t in work.targets if t and t[0] is EventType.ENTRY}
    deadline = time.monotonic() + 300
    while not entries <= lake.entry_at.keys() and time.monotonic() < deadline:
        check_alive(process)
        if time.time() - lake.last_file > SETTLE_S and lake.last_file > sent_at[-1]:
            break
        time.sleep(1.0)
        lake.poll()
    for target, sent in zip(work.targets, sent_at, strict=True):
        if target is None:
            continue
        kind, event_id = target
        landed = (lake.entry_at if kind is EventType.ENTRY else lake.exit_at).get(event_id)
        if landed is None:
            outcome.not_landed += 1
        else:
            outcome.latencies.append(landed - sent)
    found = sorted(outcome.latencies) or [float("nan")]
    print(
        f"{outcome.name}: latency at {outcome.rate:,.0f} payloads/s over "
        f"{len(outcome.latencies):,} entries and exits: p50 {outcome.percentile(0.5) or 0:.2f} s, "
        f"p99 {outcome.percentile(0.99) or 0:.2f} s, max {found[-1]:.2f} s (without a session "
        f"row: {outcome.not_landed})",
        flush=True,
    )


def start_profiler(process: Process, folder: Path | None, name: str) -> subprocess.Popen | None:
    """py-spy on the contender's process (non-blocking) when `--profile` is given."""
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    command = ["py-spy", "record", "--nonblocking", "--format", "raw", "--rate", "50"]
    command += ["--pid", str(process.process.pid), "-o", str(folder / f"{name}.txt")]
    time.sleep(1.0)  # let the interpreter start before attaching
    py_spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen([str(py_spy), *command[1:]], stdout=subprocess.DEVNULL)


def stop_profiler(profiler: subprocess.Popen | None) -> None:
    """Stop py-spy so it writes its profile."""
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)


def run_contender(name: str, work: Workload, args: argparse.Namespace) -> Outcome:
    """Both phases for one contender on a broker of its own."""
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        data_dir = Path(tmp)
        load(name, work, broker)
        lake = SessionLake(data_dir)
        started = time.time()
        process = start_contender(name, broker.bootstrap, data_dir)
        try:
            outcome = throughput(name, work, process, lake, started, args)
            latency(outcome, work, broker, lake, process, args.rate)
            _, outcome.rss_mib = worker_cpu_and_rss([process])
        finally:
            process.stop()
    return outcome


# --- report -----------------------------------------------------------------------------------


def table(outcomes: list[Outcome]) -> str:
    """The results as a Markdown table."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:,.0f}"

    lines = [
        "| contender | events/s | first session file | events/s after it "
        "| CPU s per 100K events | peak RSS MiB | latency p50 / p99 ms (payloads/s) "
        "| sessions vs match_stream |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.name} | {o.events_per_s:,.0f} | {o.first_file_s:.1f} s "
            f"| {o.running_events_per_s:,.0f} | {o.cpu_s / o.events * 1e5:.1f} "
            f"| {o.rss_mib:,.0f} | {ms(o.percentile(0.5))} / {ms(o.percentile(0.99))} "
            f"({o.rate:,.0f}) | {o.mismatch.summary()} |"
        )
    return "\n".join(lines)


def shown(row: Row | None) -> str:
    """A session's key columns, short."""
    if row is None:
        return "-"
    status, entry, exit_, amount = row
    exit_text = exit_.strftime("%m-%d %H:%M:%S") if exit_ else "no exit"
    return f"{status} {entry:%m-%d %H:%M:%S} -> {exit_text}, paid {amount}"


def mismatch_report(name: str, mismatch: Mismatch, expected: dict[str, Row]) -> str:
    """What differs from the expected sessions, with a few examples of each kind."""
    lines = [f"{name}: {mismatch.summary()}"]
    lines += [f"  missing {sid}: expected {shown(expected[sid])}" for sid in mismatch.missing[:5]]
    lines += [f"  extra {sid}" for sid in mismatch.extra[:5]]
    for sid, (want, got) in list(mismatch.different.items())[:5]:
        lines.append(f"  different {sid}: expected {shown(want)}; got {shown(got)}")
    return "\n".join(lines)


def agreement(outcomes: list[Outcome]) -> list[str]:
    """Whether the contenders' sessions are identical to each other (whatever match_stream says)."""
    first, lines = outcomes[0], []
    for other in outcomes[1:]:
        mismatch = compare(first.rows, other.rows)
        lines.append(mismatch_report(f"{other.name} vs {first.name}", mismatch, first.rows))
    return lines


def figures(outcomes: dict[str, Outcome]) -> dict:
    """What `--json` writes: each contender's figures and the ratio ParkFlow / quixstreams."""
    found: dict = {"contenders": {}}
    for name, o in outcomes.items():
        found["contenders"][name] = {
            "events": o.events,
            "events_per_s": o.events_per_s,
            "first_file_s": o.first_file_s,
            "cpu_s_per_100k": o.cpu_s / o.events * 1e5,
            "peak_rss_mib": o.rss_mib,
            "latency": {"rate": o.rate, "p50_s": o.percentile(0.5), "p99_s": o.percentile(0.99)},
            "sessions_identical": o.mismatch.ok,
        }
    faust, quix = outcomes.get("faust"), outcomes.get("quixstreams")
    if faust and quix and quix.events_per_s:
        found["faust_vs_quixstreams"] = faust.events_per_s / quix.events_per_s
    return found


def verdicts(outcomes: dict[str, Outcome]) -> list[str]:
    """The ratio ParkFlow/quixstreams and the targets of issue 8, met or not."""
    lines = []
    faust, quix = outcomes.get("faust"), outcomes.get("quixstreams")
    if faust and quix and quix.events_per_s:
        ratio = faust.events_per_s / quix.events_per_s
        lines.append(f"ParkFlow / quixstreams events/s: {ratio:.2f}x (target >= 1.2x)")
    if faust:
        p99 = faust.percentile(0.99)
        lines.append(f"ParkFlow >= 10,000 events/s: {faust.events_per_s >= 10_000}")
        lines.append(f"ParkFlow p99 <= 500 ms at 5,000/s: {p99 is not None and p99 <= 0.5}")
        lines.append(f"ParkFlow worker RSS <= 1 GiB: {faust.rss_mib <= 1024}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="canonical events, phase 1")
    parser.add_argument("--rate", type=float, default=5000.0, help="payloads/s, phase 2")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1200.0, help="phase 1, per contender")
    parser.add_argument("--profile", type=Path, help="py-spy profiles (raw stacks) to this dir")
    parser.add_argument("--json", type=Path, help="write the figures to this file too")
    parser.add_argument("--peer", choices=sorted(PEERS), help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--group", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:  # a contender's own process
        PEERS[args.peer](args.bootstrap, args.data_dir, args.group)
        return
    os.environ["PARKFLOW_PARTITIONS"] = str(PARTITIONS)
    os.environ["PARKFLOW_FAUST_SPEEDUPS"] = "1"
    work = workload(args)
    print(
        f"input: {len(work.stream):,} payloads, {work.events:,} distinct events, "
        f"{len(work.expected):,} sessions, anomalies {dict(work.anomalies)}; latency phase: "
        f"{len(work.live):,} payloads at {args.rate:,.0f}/s",
        flush=True,
    )
    outcomes = {name: run_contender(name, work, args) for name in args.contenders.split(",")}
    print()
    print(table(list(outcomes.values())))
    for line in verdicts(outcomes):
        print(line)
    for line in agreement(list(outcomes.values())):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(figures(outcomes), indent=2))
    wrong = [o for o in outcomes.values() if not o.mismatch.ok]
    for o in wrong:
        print(mismatch_report(f"{o.name} vs match_stream", o.mismatch, work.expected))
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
