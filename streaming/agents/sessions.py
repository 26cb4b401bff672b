"""sessions: parking.events -> sessions and anomalies, with state in a changelog-backed Table.

The matching itself is `streaming.rules.sessions.SessionMatcher` over a plain
dict of `VehicleState`. The Faust Table `vehicle_state` is only its durable
copy: after each batch the changed keys are written to the changelog once
(not once per event), and after a restart or rebalance the dict is rebuilt
from the recovered table.

Order per batch, for at-least-once without loss: rows to the lake, then the
changelog, then the acknowledgement (offsets commit after the producer
flushes). A crash re-delivers the batch; events re-read from the same offset
are recognised by the matcher and skipped, so nothing is counted twice.

Embedded-broker quirk (ARCHITECTURE, Kafka): ListOffsets(latest) may report the
first offset of the last record batch + 1, which makes table recovery stop
early. The last changelog record of each partition is therefore sent in a
record batch of its own (flush, then send), so the reported end is the true end.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator, MutableMapping
from datetime import datetime, timedelta

from parkflow.events import event_from_json
from parkflow.kafka import CHANGELOG_CONFIGS
from parkflow.lake import LakeWriter
from streaming import topics
from streaming.app import app, settings
from streaming.rules.sessions import MatchResult, SessionMatcher, VehicleState, is_session_part

#: A stream quiet for longer than this lets event time follow the wall clock, so exits
#: waiting for an entry still expire when traffic stops (e.g. at night).
IDLE_AFTER = timedelta(seconds=30)
#: Seconds of processing time the timers lag behind the newest event time.
LAG_S = 5.0
_SESSION_TYPES = (b'"event_type":"entry"', b'"event_type":"exit"', b'"event_type":"payment"')

# keys: vehicle keys (str); values: {"partition": int, "state": VehicleState as JSON}
state_table = app.Table(
    "vehicle_state", partitions=settings.partitions, extra_topic_configs=CHANGELOG_CONFIGS
)
writer = LakeWriter(settings.data_dir)


class ChangedKeys(MutableMapping[str, VehicleState]):
    """The matcher's state: a dict that remembers which keys changed since the last flush."""

    def __init__(self) -> None:
        self.data: dict[str, VehicleState] = {}
        self.changed: set[str] = set()

    def __getitem__(self, key: str) -> VehicleState:
        return self.data[key]

    def __setitem__(self, key: str, value: VehicleState) -> None:
        self.data[key] = value
        self.changed.add(key)

    def __delitem__(self, key: str) -> None:
        del self.data[key]
        self.changed.add(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


state = ChangedKeys()
partition_of: dict[str, int] = {}
matcher = SessionMatcher(state)
lock = asyncio.Lock()


class Clock:
    """Event time as the timers may use it.

    The newest event time seen, as it was `LAG_S` seconds ago: inputs from different
    vendors' topics reach this agent with some skew (in a fast replay, hours of event
    time), and an exit must not be declared unmatched while its entry is still in
    flight. Once the stream has been idle for `IDLE_AFTER`, event time follows the
    wall clock, so waiting exits still expire when traffic stops.
    """

    def __init__(self) -> None:
        self.newest: datetime | None = None
        self.seen_at = 0.0
        self._history: deque[tuple[float, datetime]] = deque()

    def observe(self, ts: datetime) -> None:
        """Note an event time."""
        if self.newest is not None and ts <= self.newest:
            return
        now = time.monotonic()
        self.newest, self.seen_at = ts, now
        if self._history and now - self._history[-1][0] < 0.1:
            self._history[-1] = (self._history[-1][0], ts)  # keep the history short
        else:
            self._history.append((now, ts))

    def now(self) -> datetime | None:
        """The event time the timers may act on, or None before anything is old enough."""
        wall = time.monotonic()
        cutoff = wall - LAG_S
        while len(self._history) > 1 and self._history[1][0] <= cutoff:
            self._history.popleft()
        if not self._history or self._history[0][0] > cutoff:
            return None
        lagged = self._history[0][1]
        idle = timedelta(seconds=wall - self.seen_at) - IDLE_AFTER
        return max(lagged, self.newest + idle) if idle > timedelta(0) else lagged


clock = Clock()


async def _publish(result: MatchResult) -> None:
    """Rows to the lake, then the changed state to the changelog (see the module docstring)."""
    if result.sessions:
        await asyncio.to_thread(writer.write, "sessions", result.sessions)
    if result.anomalies:
        await asyncio.to_thread(writer.write, "anomalies", result.anomalies)
    if not state.changed:
        return
    last_per_partition: dict[int, str] = {}
    for key in sorted(state.changed):
        partition = partition_of[key]
        if partition in last_per_partition:
            _send(last_per_partition[partition])
        last_per_partition[partition] = key
    await app.producer.flush()
    for key in last_per_partition.values():
        _send(key)
    await app.producer.flush()
    state.changed.clear()


def _send(key: str) -> None:
    vehicle = state.data.get(key)
    value = None
    if vehicle is not None:
        value = {"partition": partition_of[key], "state": vehicle.model_dump(mode="json")}
    state_table.send_changelog(partition_of[key], key, value)
    if vehicle is None:
        partition_of.pop(key, None)


@state_table.on_recover
async def rebuild_state() -> None:
    """After a restart or rebalance: the matcher's state is what the changelog recovered."""
    async with lock:
        state.data.clear()
        state.changed.clear()
        partition_of.clear()
        for key, stored in state_table.data.items():
            if not stored:
                continue
            state.data[key] = VehicleState.model_validate(stored["state"])
            partition_of[key] = stored["partition"]
        matcher.reset_timers()


@app.agent(topics.events)
async def sessions(stream) -> None:
    """Match entries, payments and exits into sessions; land sessions and anomalies."""
    async for batch in stream.take_events(5000, within=0.2):
        async with lock:
            result = MatchResult()
            for event in batch:
                if not any(marker in event.value for marker in _SESSION_TYPES):
                    continue  # cheap skip of telemetry, bays and counts
                canonical = event_from_json(event.value)
                if not is_session_part(canonical):
                    continue
                message = event.message
                partition_of[event.key.decode()] = message.partition
                position = f"{message.topic}:{message.partition}:{message.offset}"
                result.extend(matcher.on_event(canonical, at=position))
                clock.observe(canonical.ts)
            await _publish(result)


@app.timer(1.0)
async def session_timers() -> None:
    """Expire waiting exits and over-long stays as event time moves on."""
    now = clock.now()
    if now is None:
        return
    async with lock:
        await _publish(matcher.advance(now))
