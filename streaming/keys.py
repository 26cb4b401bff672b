"""Kafka keys of canonical events: what must be processed together lands on one partition."""

from __future__ import annotations

from aiokafka.partitioner import murmur2

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


class KeyPartitioner:
    """The partition of a key among `count`, as Kafka's default partitioner picks it (murmur2,
    as aiokafka and Faust's producer do), with each key's hash computed once."""

    def __init__(self, max_keys: int = 200_000) -> None:
        self.max_keys = max_keys
        self.hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes, count: int) -> int:
        """The partition of `key` in a topic of `count` partitions."""
        hashed = self.hashes.get(key)
        if hashed is None:
            if len(self.hashes) >= self.max_keys:
                self.hashes.clear()  # bounded memory; the keys in use come back at once
            hashed = self.hashes[key] = murmur2(key) & 0x7FFFFFFF
        return hashed % count
