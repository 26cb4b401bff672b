"""Running a simulation: payloads to files or Kafka topics, paced, with a manifest of what was sent.

Files: one per vendor in the output folder (`<vendor>.jsonl`, `.csv` or `.txt`),
one payload per line, plus `manifest.json`. Kafka: topic `raw.<vendor>`, keyed
by device id. The manifest counts payloads, events, corrupted payloads,
duplicates and late deliveries per vendor, and the ground truth (sessions,
misreads, missed exits, outages...), so tests and people can check what the
pipeline made of it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from pydantic import BaseModel, Field

from parkflow import __version__
from parkflow.events import utc_now
from parkflow.kafka import (
    DELIVERED_AT_HEADER,
    KeyPartitioner,
    PartitionBatches,
    ensure_topics,
    raw_topic,
)
from parkflow.registry import PluginRegistry
from parkflow.sdk import SourcePlugin
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.config import FaultRates, SimulationConfig
from parkflow.simulator.transport import Payload, Transport
from parkflow.simulator.world import VENDOR_FOR, simulate_world

MANIFEST_NAME = "manifest.json"


class VendorStats(BaseModel):
    """What was sent for one vendor."""

    destination: str = ""
    payloads: int = 0
    events: int = 0
    corrupted: int = 0
    duplicates: int = 0
    late: int = 0


class Manifest(BaseModel):
    """A record of a simulation run."""

    parkflow_version: str = __version__
    generated_at: datetime = Field(default_factory=utc_now)
    seed: int
    start: datetime
    end: datetime
    facilities: list[str]
    faults: FaultRates
    limit: int | None = None
    payloads: int = 0
    vendors: dict[str, VendorStats] = Field(default_factory=dict)
    truth: dict[str, int] = Field(default_factory=dict)


def file_name(plugin: SourcePlugin) -> str:
    """`<vendor>.jsonl|csv|txt` after the plugin's content type."""
    content_type = plugin.content_type.lower()
    suffix = "jsonl" if "json" in content_type else "csv" if "csv" in content_type else "txt"
    return f"{plugin.name}.{suffix}"


class PayloadSink(Protocol):
    """Where payloads go."""

    async def open(self, plugins: list[SourcePlugin]) -> dict[str, str]:
        """Prepare for these vendors; return where each vendor's payloads go."""

    async def send(self, payload: Payload) -> None:
        """Deliver one payload."""

    async def close(self) -> None:
        """Flush and release everything."""


class FileSink:
    """One file per vendor, one payload per line."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[str, IO[bytes]] = {}

    async def open(self, plugins: list[SourcePlugin]) -> dict[str, str]:
        self.folder.mkdir(parents=True, exist_ok=True)
        destinations = {}
        for plugin in plugins:
            path = self.folder / file_name(plugin)
            self._files[plugin.name] = path.open("wb")
            destinations[plugin.name] = str(path)
        return destinations

    async def send(self, payload: Payload) -> None:
        data = payload.data.rstrip(b"\r\n")  # line formats end with a newline: one is enough
        if b"\n" in data:
            raise ValueError(f"a {payload.vendor} payload spans lines; files hold one per line")
        handle = self._files[payload.vendor]
        handle.write(data)
        handle.write(b"\n")

    async def close(self) -> None:
        for handle in self._files.values():
            handle.close()


class DeliveryError(OSError):
    """The broker did not acknowledge payloads for longer than the sink retries."""


class KafkaSink:
    """Topic `raw.<vendor>` per vendor, keyed by device id (one device, one partition).

    Payloads are put into record batches here, one per topic partition
    (`parkflow.kafka.PartitionBatches`), each sent when it is full or `linger_s` after the
    first payload waiting: the producer's per-message `send` (a future, a partitioner call
    and a callback per payload) cost the sender several times more CPU.

    At-least-once: a payload the broker does not acknowledge (down, paused, unreachable) is
    sent again until `retry_for_s` seconds after the first failure, then `DeliveryError`.
    A payload sent twice is stored once downstream (event ids are deterministic).

    `stamp_delivery`: each record says when its payload was delivered (`DELIVERED_AT_HEADER`),
    for simulated traffic, whose history is delivered in the past; a replay of files sends
    what it reads now, a backfill, and does not.
    """

    def __init__(
        self,
        bootstrap: str,
        partitions: int,
        replication: int = 1,
        *,
        retry_for_s: float = 300.0,
        request_timeout_s: float = 40.0,
        linger_s: float = 0.05,
        stamp_delivery: bool = False,
    ) -> None:
        self.bootstrap = bootstrap
        self.stamp_delivery = stamp_delivery
        self.partitions = partitions
        self.replication = replication
        self.retry_for_s = retry_for_s
        self.request_timeout_s = request_timeout_s
        self.linger_s = linger_s
        self.retries = 0  # payloads sent again
        self._producer = None
        self._partitioner = KeyPartitioner()
        self._partition_counts: dict[str, int] = {}
        self._batches: PartitionBatches | None = None
        self._in_batch: dict[tuple[str, int], list[Payload]] = {}  # what each builder holds
        self._linger: asyncio.TimerHandle | None = None
        self._shipping = asyncio.Lock()
        self._background: set[asyncio.Task] = set()
        self._pending: list[tuple[list[Payload], asyncio.Future]] = []
        self._unacknowledged = 0

    async def open(self, plugins: list[SourcePlugin]) -> dict[str, str]:
        from aiokafka import AIOKafkaProducer

        topics = {plugin.name: raw_topic(plugin.name) for plugin in plugins}
        await ensure_topics(
            self.bootstrap,
            topics.values(),
            partitions=self.partitions,
            replication=self.replication,
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            max_batch_size=256 * 1024,
            acks=1 if self.replication == 1 else "all",
            request_timeout_ms=int(self.request_timeout_s * 1000),
        )
        await self._producer.start()
        self._batches = PartitionBatches(lambda: self._producer)
        return topics

    async def send(self, payload: Payload) -> None:
        """Add `payload` to its partition's batch; wait for the broker every 5,000 payloads."""
        self._raise_background_error()
        await self._add(payload)
        if self._unacknowledged >= 5000:
            await self._drain()

    async def _add(self, payload: Payload) -> None:
        topic = raw_topic(payload.vendor)
        count = self._partition_counts.get(topic)
        if count is None:
            count = self._partition_counts[topic] = len(await self._producer.partitions_for(topic))
        where = (topic, self._partitioner(payload.key, count))
        headers = None
        if self.stamp_delivery:
            delivered = str(int(payload.deliver_at.timestamp() * 1000)).encode()
            headers = [(DELIVERED_AT_HEADER, delivered)]
        full = self._batches.append(topic, where[1], payload.key, payload.data, headers)
        self._unacknowledged += 1
        if self._linger is None:
            self._linger = asyncio.get_running_loop().call_later(self.linger_s, self._linger_over)
        if full is None:
            self._in_batch.setdefault(where, []).append(payload)
            return
        shipped, self._in_batch[where] = self._in_batch[where], [payload]
        await self._ship({where: (full, shipped)})

    def _linger_over(self) -> None:
        self._linger = None
        task = asyncio.get_running_loop().create_task(self._ship_open())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _raise_background_error(self) -> None:
        for task in [t for t in self._background if t.done()]:
            self._background.discard(task)
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()

    async def _ship_open(self) -> None:
        """Send every batch being filled."""
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        payloads, self._in_batch = self._in_batch, {}
        await self._ship({w: (b, payloads[w]) for w, b in self._batches.take().items()})

    async def _ship(self, batches: dict[tuple[str, int], tuple[Any, list[Payload]]]) -> None:
        """Hand batches to the producer in order, waiting while a partition's queue is full."""
        from aiokafka.errors import KafkaTimeoutError

        async with self._shipping:  # one at a time, so a partition's batches keep their order
            for (topic, partition), (builder, payloads) in batches.items():
                failing_since: float | None = None
                while True:
                    try:
                        future = await self._producer.send_batch(
                            builder, topic, partition=partition
                        )
                        break
                    except KafkaTimeoutError as exc:  # the queue stayed full: broker trouble
                        failing_since = failing_since or time.monotonic()
                        self._check_retry(failing_since, exc)
                self._pending.append((payloads, future))

    def _check_retry(self, failing_since: float, exc: Exception) -> None:
        if time.monotonic() - failing_since > self.retry_for_s:
            raise DeliveryError(
                f"the broker at {self.bootstrap} did not acknowledge payloads for "
                f"{self.retry_for_s:g} s: {type(exc).__name__} {exc}"
            ) from exc

    async def _drain(self) -> None:
        """Send every batch, wait for every delivery, and send the failed payloads again."""
        from aiokafka.errors import KafkaError

        failing_since: float | None = None
        await self._ship_open()
        while self._pending:
            await asyncio.gather(*self._background)  # batches a linger timer is handing over
            pending, self._pending = self._pending, []
            outcomes = await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
            failed = [
                (payloads, outcome)
                for (payloads, _), outcome in zip(pending, outcomes, strict=True)
                if isinstance(outcome, BaseException)
            ]
            if not failed:
                continue
            failing_since = failing_since or time.monotonic()
            for _, exc in failed:
                if not isinstance(exc, KafkaError):
                    raise exc
                self._check_retry(failing_since, exc)
            await asyncio.sleep(1.0)  # the broker is in trouble: do not hammer it
            for payloads, _ in failed:
                self.retries += len(payloads)
                for payload in payloads:
                    await self._add(payload)
            await self._ship_open()
        self._unacknowledged = 0

    async def close(self) -> None:
        if self._producer is not None:
            try:
                await self._drain()
            finally:
                await self._producer.stop()


#: A payload due sooner than this goes out at once: a sleep per payload would cost a sender
#: at thousands of payloads a second more CPU than sending them.
MIN_PAUSE_S = 0.002


async def pause_until(due: float) -> None:
    """Sleep until `due` (a `time.monotonic()` time) unless it is less than `MIN_PAUSE_S` away."""
    pause = due - time.monotonic()
    if pause >= MIN_PAUSE_S:
        await asyncio.sleep(pause)


@dataclass(frozen=True)
class Pacing:
    """How fast payloads go out: as fast as possible, `speed` x real time, or a fixed delay."""

    speed: float | None = None
    delay_s: float = 0.0

    async def wait(self, payload: Payload, sim_start: datetime, wall_start: float) -> None:
        """Sleep until `payload` is due."""
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        elif self.speed:
            await pause_until(
                wall_start + (payload.deliver_at - sim_start).total_seconds() / self.speed
            )


async def run_simulation(
    config: SimulationConfig,
    sink: PayloadSink,
    plugins: PluginRegistry,
    *,
    pacing: Pacing | None = None,
    limit: int | None = None,
    on_payload: Callable[[Payload], None] | None = None,
) -> Manifest:
    """Simulate `config`, send every payload to `sink`, and return the manifest."""
    facilities = first_facilities(config.facilities)
    vendors = [plugins.get(name) for name in dict.fromkeys(VENDOR_FOR.values())]
    truth: Counter[str] = Counter()
    manifest = Manifest(
        seed=config.seed,
        start=config.start,
        end=config.end,
        limit=limit,
        facilities=[f.facility_id for f in facilities],
        faults=config.faults,
    )
    stats = {plugin.name: VendorStats() for plugin in vendors}
    pacing = pacing or Pacing()
    destinations = await sink.open(vendors)
    try:
        for name, destination in destinations.items():
            stats[name].destination = destination
        transport = Transport(plugins, config.faults, config.seed)
        wall_start = time.monotonic()
        for payload in transport.deliver(simulate_world(config, facilities, truth)):
            if limit is not None and manifest.payloads >= limit:
                break
            await pacing.wait(payload, config.start, wall_start)
            await sink.send(payload)
            manifest.payloads += 1
            vendor = stats[payload.vendor]
            vendor.payloads += 1
            vendor.events += payload.events
            vendor.corrupted += payload.corrupted
            vendor.duplicates += payload.duplicate
            vendor.late += payload.late
            if on_payload is not None:
                on_payload(payload)
    finally:
        await sink.close()
    manifest.vendors = stats
    manifest.truth = dict(sorted(truth.items()))
    return manifest


def write_manifest(manifest: Manifest, folder: Path) -> Path:
    """Write `manifest.json` into `folder`."""
    path = folder / MANIFEST_NAME
    path.write_text(manifest.model_dump_json(indent=2))
    return path


def read_manifest(folder: Path) -> Manifest:
    """Read the `manifest.json` of a simulation folder."""
    return Manifest.model_validate_json((folder / MANIFEST_NAME).read_text())
