"""Kafka keys of canonical events: what must be processed together lands on one partition."""

from __future__ import annotations

from parkflow.events import BayStatusEvent, CanonicalEvent, OccupancyCountEvent, TelemetryEvent
from streaming.rules.sessions import is_session_part, vehicle_key


def partition_key(event: CanonicalEvent) -> bytes:
    """One vehicle's entry, payments and exit share a key (facility + pseudonymised plate);
    so do one device's telemetry (device id), one zone's bays and one facility's counts."""
    if is_session_part(event):
        return vehicle_key(event.facility_id, event.plate).encode()
    if isinstance(event, TelemetryEvent):
        return event.device_id.encode()
    if isinstance(event, BayStatusEvent):
        return f"{event.facility_id}|{event.zone_id}".encode()
    if isinstance(event, OccupancyCountEvent):
        return event.facility_id.encode()
    return f"{event.facility_id}|{event.device_id}".encode()  # street-meter payments
