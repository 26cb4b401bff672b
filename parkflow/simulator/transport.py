"""From device messages to vendor payloads on the wire, with the faults of real transport.

Each message is rendered by its vendor plugin (`SourcePlugin.simulate`). Then,
at the configured rates, a payload is corrupted in transit (cut short, or
broken bytes: it can never parse), sent twice (a retry after a lost ack), or
delivered late (buffered by a gateway), which puts it out of order.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from parkflow.registry import PluginRegistry
from parkflow.simulator.config import FaultRates
from parkflow.simulator.world import Message


@dataclass(slots=True)
class Payload:
    """One vendor payload as it is delivered."""

    deliver_at: datetime
    vendor: str
    key: bytes
    data: bytes
    events: int
    corrupted: bool = False
    duplicate: bool = False
    late: bool = False


def corrupt(data: bytes, rng: random.Random) -> bytes:
    """Damage a payload so that no parser can accept it: cut it short, or break its UTF-8."""
    data = data.rstrip(b"\r\n")
    if rng.random() < 0.5 and len(data) >= 8:
        return data[: rng.randint(len(data) // 5, len(data) // 2)]
    at = rng.randint(0, len(data))
    return data[:at] + b"\xff\xfe" + data[at:]


class Transport:
    """Renders messages into payloads and applies transit faults, in delivery order."""

    def __init__(self, plugins: PluginRegistry, faults: FaultRates, seed: int) -> None:
        self.plugins = plugins
        self.faults = faults
        self.rng = random.Random(f"{seed}:transport")
        self._in_flight: list[tuple[datetime, int, Payload]] = []
        self._order = itertools.count()

    def _send(self, payload: Payload) -> None:
        heapq.heappush(self._in_flight, (payload.deliver_at, next(self._order), payload))

    def deliver(self, messages: Iterable[Message]) -> Iterator[Payload]:
        """Payloads in the order they arrive at ParkFlow."""
        rng, faults = self.rng, self.faults
        for message in messages:
            while self._in_flight and self._in_flight[0][0] <= message.ts:
                yield heapq.heappop(self._in_flight)[2]
            plugin = self.plugins.get(message.vendor)
            payload = Payload(
                deliver_at=message.ts,
                vendor=message.vendor,
                key=message.device_id.encode(),
                data=plugin.simulate(message.events, message.tz),
                events=len(message.events),
            )
            if rng.random() < faults.late:
                payload.deliver_at += timedelta(seconds=rng.randint(60, 900))
                payload.late = True
            if rng.random() < faults.garbage:
                payload.data = corrupt(payload.data, rng)
                payload.events, payload.corrupted = 0, True
            self._send(payload)
            if rng.random() < faults.duplicate:
                retry_at = payload.deliver_at + timedelta(seconds=rng.randint(1, 30))
                self._send(
                    Payload(
                        retry_at,
                        payload.vendor,
                        payload.key,
                        payload.data,
                        payload.events,
                        payload.corrupted,
                        duplicate=True,
                    )
                )
        while self._in_flight:
            yield heapq.heappop(self._in_flight)[2]
