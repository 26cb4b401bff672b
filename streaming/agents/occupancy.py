"""occupancy: parking.occupancy -> live vehicles inside and occupied bays, capacity alerts.

Besides events, the topic carries the session matcher's corrections of a gated facility's
vehicles inside (`{"inside": [...]}` records from the sessions agent: a missed exit or entry).

Events arrive keyed by facility, so one partition holds a whole facility and its counts are
complete. A record carries a JSON array of one facility's events (normalize sends a batch's
events of a facility together; a record of one event is read too). State (counts, bays,
open alerts and the last offset processed per facility) is durable in a changelog; records
re-read from offsets already processed after a crash are skipped, and re-sent events (same
id) are counted once.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import orjson

from parkflow.estate import capacities
from parkflow.events import CanonicalEvent, event_from_json, events_from_json
from parkflow.records import AlertRecord
from streaming import topics
from streaming.app import app, estate, settings
from streaming.rules.dedupe import RecentIds
from streaming.rules.occupancy import OccupancyTracker
from streaming.sink import land_alerts
from streaming.state import DurableState, PrefixedView, durable_table


def _decode(key: str, stored: object) -> object:
    return AlertRecord.model_validate(stored) if key.startswith("alert:") else stored


def _owner(key: str) -> str:
    """Every key of a facility ('count:FAC/Z', 'bay:FAC/Z/B', 'alert:FAC|T', ...) -> FAC."""
    return key.split(":", 1)[1].split("|")[0].split("/")[0]


table = durable_table(app, "occupancy_state", settings.partitions)
state: DurableState = DurableState(
    table,
    encode=lambda value: value.model_dump(mode="json") if isinstance(value, AlertRecord) else value,
    decode=_decode,
    owner=_owner,
)
tracker = OccupancyTracker(
    PrefixedView(state, "count:"),
    PrefixedView(state, "bay:"),
    PrefixedView(state, "alert:"),
    capacities(estate.facilities),
)
last_offset = PrefixedView(state, "offset:")
recent = RecentIds()
lock = asyncio.Lock()


@table.on_recover
async def rebuild_state() -> None:
    """After a restart or rebalance the tracker works on what the changelog recovered."""
    async with lock:
        state.rebuild()


def decode(value: bytes) -> list[CanonicalEvent]:
    """A parking.occupancy record: a JSON array of events, or one event."""
    return events_from_json(value) if value.startswith(b"[") else [event_from_json(value)]


def inside_corrections(value: bytes) -> list[dict] | None:
    """The session matcher's corrections in a parking.occupancy record, None for events."""
    return orjson.loads(value)["inside"] if value.startswith(b'{"inside"') else None


@app.agent(topics.occupancy)
async def occupancy(stream) -> None:
    """Count vehicles and bays per facility and zone; open and resolve capacity alerts."""
    async for batch in stream.take_events(5000, within=0.2):
        async with lock:
            alerts: list[AlertRecord] = []
            for event in batch:
                facility = event.key.decode()
                message = event.message
                if message.offset <= last_offset.get(facility, -1):
                    continue  # processed before a restart: re-delivered
                state.note_partition(facility, message.partition)
                last_offset[facility] = message.offset
                corrections = inside_corrections(event.value)
                if corrections is not None:
                    for c in corrections:
                        ts = datetime.fromisoformat(c["ts"])
                        if recent.first_time(c["id"], ts):
                            alerts += tracker.on_inside(facility, c["delta"], ts)
                    continue
                for canonical in decode(event.value):
                    if recent.first_time(canonical.event_id, canonical.ts):
                        alerts += tracker.on_event(canonical)
            await land_alerts(alerts)
            await state.flush(app)
