"""devices: telemetry on parking.events -> device alerts and health, state in a changelog.

Powered devices (gate controllers, pay stations, chargers) report every minute
and are offline after 2 minutes of silence (ARCHITECTURE). Battery bay sensors
send a heartbeat every hour: for them (plugin `baynode`) silence means offline
after `SENSOR_OFFLINE_AFTER`, or every sensor would always be offline. The `events` agent
(`streaming/agents/events.py`) hands it each batch of parking.events.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from faust.types import EventT

from parkflow.events import TelemetryEvent, event_from_json
from parkflow.records import AlertRecord
from streaming.app import app, settings
from streaming.backlog import catching_up
from streaming.batching import YIELD_EVERY, event_lines
from streaming.clock import EventClock
from streaming.rules.devices import DeviceMonitor, LastSeen
from streaming.sink import land_alerts
from streaming.state import DurableState, PrefixedView, durable_table

SENSOR_SOURCES = {"baynode"}
SENSOR_OFFLINE_AFTER = timedelta(hours=3)
_TELEMETRY = b'"event_type":"telemetry"'


def _decode(key: str, stored: dict) -> LastSeen | AlertRecord:
    return (
        AlertRecord.model_validate(stored) if ":alert:" in key else LastSeen.model_validate(stored)
    )


def _owner(key: str) -> str:
    """'<group>:seen:<device>' and '<group>:alert:<device>|<type>' belong to the device."""
    return key.split(":", 2)[2].split("|")[0]


table = durable_table(app, "device_state", settings.partitions)
state: DurableState = DurableState(
    table, encode=lambda value: value.model_dump(mode="json"), decode=_decode, owner=_owner
)
monitors = {
    "powered": DeviceMonitor(
        PrefixedView(state, "powered:seen:"), PrefixedView(state, "powered:alert:")
    ),
    "sensor": DeviceMonitor(
        PrefixedView(state, "sensor:seen:"),
        PrefixedView(state, "sensor:alert:"),
        offline_after=SENSOR_OFFLINE_AFTER,
        stale_after=SENSOR_OFFLINE_AFTER,
    ),
}
clock = EventClock()
lock = asyncio.Lock()


def monitor_for(event: TelemetryEvent) -> DeviceMonitor:
    """Bay sensors and powered devices have different heartbeats."""
    return monitors["sensor" if event.source in SENSOR_SOURCES else "powered"]


async def _publish(alerts: list[AlertRecord]) -> None:
    await land_alerts(alerts)
    await state.flush(app)


@table.on_recover
async def rebuild_state() -> None:
    """After a restart or rebalance the monitors work on what the changelog recovered."""
    async with lock:
        state.rebuild()


async def on_batch(batch: list[EventT]) -> None:
    """A batch's telemetry -> OFFLINE resolutions, HIGH_POWER and INVALID_DATA alerts
    (called by the `events` agent, before it acknowledges the batch)."""
    async with lock:
        alerts: list[AlertRecord] = []
        for index, (encoded, message, _) in enumerate(event_lines(batch), start=1):
            if index % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the loop serve the other stages meanwhile
            if _TELEMETRY not in encoded:
                continue
            reading = event_from_json(encoded)
            state.note_partition(reading.device_id, message.partition)
            alerts += monitor_for(reading).on_telemetry(reading)
            clock.observe(reading.ts)
        await _publish(alerts)


@app.timer(5.0)
async def offline_check() -> None:
    """Open OFFLINE alerts for devices gone silent (not while a backlog is read)."""
    now = clock.now()
    if now is None or catching_up(app):
        return
    async with lock:
        await _publish([a for m in monitors.values() for a in m.check_offline(now)])
