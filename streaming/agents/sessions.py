"""sessions: parking.events -> sessions and anomalies, state durable in a changelog.

The `events` agent (`streaming/agents/events.py`) hands it each batch of parking.events.
Where a camera missed a read, the matcher's corrections of the vehicles inside (a session
ABANDONED, an exit without an entry) go to parking.occupancy, keyed by facility, for the
occupancy agent's live counts (`encode_inside`).

The matching is `streaming.rules.sessions.SessionMatcher` over a `DurableState`
(a dict whose changed keys reach the `vehicle_state` changelog once per batch).
Per batch, for at-least-once without loss: rows to the lake and the corrections to
parking.occupancy (ids make a re-sent one count once), then the changelog, then the
acknowledgement (offsets commit after the producer
flushes). A crash re-delivers the batch; each event carries its position (record
and line) into the matcher, which skips what it already processed from there.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict

import orjson
from faust.types import EventT

from parkflow.estate import max_stays
from parkflow.events import event_from_json
from parkflow.kafka import OCCUPANCY_TOPIC
from streaming import metrics
from streaming.app import app, estate, settings
from streaming.backlog import catching_up
from streaming.batching import YIELD_EVERY, event_lines, position
from streaming.clock import EventClock
from streaming.outbox import Outbox
from streaming.rules.sessions import (
    InsideCorrection,
    MatchResult,
    SessionMatcher,
    VehicleState,
    is_session_part,
    vehicle_key,
)
from streaming.sink import land
from streaming.state import DurableState, durable_table

_SESSION_TYPE = re.compile(rb'"event_type":"(?:entry|exit|payment)"')

table = durable_table(app, "vehicle_state", settings.partitions)
state: DurableState[VehicleState] = DurableState(
    table,
    encode=lambda vehicle: vehicle.model_dump(mode="json"),
    decode=lambda key, stored: VehicleState.model_validate(stored),
)
matcher = SessionMatcher(state, max_stay=max_stays(estate.facilities))
clock = EventClock()
lock = asyncio.Lock()
outbox = Outbox(app)


def encode_inside(corrections: list[InsideCorrection]) -> list[tuple[bytes, bytes]]:
    """parking.occupancy records of corrections: one per facility, `{"inside": [...]}`."""
    by_facility: dict[str, list[dict]] = defaultdict(list)
    for c in corrections:
        by_facility[c.facility_id].append(
            {"id": c.correction_id, "ts": c.ts.isoformat(), "delta": c.delta}
        )
    return [
        (facility.encode(), orjson.dumps({"inside": rows}))
        for facility, rows in by_facility.items()
    ]


async def _publish(result: MatchResult) -> None:
    """Rows to the lake and corrections to parking.occupancy, then the changed state to the
    changelog."""
    if result.inside:
        await outbox.send_all(OCCUPANCY_TOPIC, encode_inside(result.inside))
    await asyncio.gather(
        land("sessions", result.sessions), land("anomalies", result.anomalies), outbox.flush()
    )
    await state.flush(app)
    for session in result.sessions:
        metrics.inc("parkflow_sessions_total", status=session.status.value)


@table.on_recover
async def rebuild_state() -> None:
    """After a restart or rebalance the matcher works on what the changelog recovered."""
    async with lock:
        state.rebuild()
        matcher.reset_timers()


async def on_batch(batch: list[EventT]) -> None:
    """Match a batch's entries, payments and exits into sessions; land sessions and anomalies
    (called by the `events` agent, before it acknowledges the batch)."""
    async with lock:
        result = MatchResult()
        for index, (encoded, message, line) in enumerate(event_lines(batch), start=1):
            if index % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the loop serve the other stages meanwhile
            if _SESSION_TYPE.search(encoded) is None:
                continue  # cheap skip of telemetry, bays and counts
            canonical = event_from_json(encoded)
            if not is_session_part(canonical):
                continue
            state.note_partition(
                vehicle_key(canonical.facility_id, canonical.plate), message.partition
            )
            result.extend(matcher.on_event(canonical, at=position(message, line)))
            clock.observe(canonical.ts)
        await _publish(result)


@app.timer(1.0)
async def session_timers() -> None:
    """Expire waiting exits and over-long stays as event time moves on (not while a backlog
    is read: its partitions arrive skewed in event time)."""
    now = clock.now()
    if now is None or catching_up(app):
        return
    async with lock:
        await _publish(matcher.advance(now))
