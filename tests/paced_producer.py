"""Vendor payloads sent to their raw topics at a fixed rate, from a background thread.

Tests and benchmarks keep producing while they kill or pause other processes; the
producer has its own thread and event loop so that nothing they do blocks it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable

from parkflow.registry import PluginRegistry
from parkflow.simulator import KafkaSink, pause_until
from parkflow.simulator.transport import Payload


class PacedProducer(threading.Thread):
    """Sends `payloads` through a `KafkaSink` at `rate` per second until they run out or
    `stop()`; `sent` counts the payloads handed to the sink, `error` holds what failed."""

    def __init__(
        self,
        sink: KafkaSink,
        payloads: Iterable[Payload],
        rate: float,
        registry: PluginRegistry,
    ) -> None:
        super().__init__(name="paced-producer", daemon=True)
        self.sink = sink
        self.payloads = payloads
        self.rate = rate
        self.registry = registry
        self.sent = 0
        self.error: BaseException | None = None
        self.started_at: float | None = None
        self._stopping = threading.Event()

    def run(self) -> None:
        """The thread's body: the send loop on an event loop of its own."""
        try:
            asyncio.run(self._send())
        except BaseException as exc:
            self.error = exc

    async def _send(self) -> None:
        await self.sink.open([self.registry.get(name) for name in self.registry.names()])
        try:
            self.started_at = time.monotonic()
            for payload in self.payloads:
                if self._stopping.is_set():
                    break
                await pause_until(self.started_at + self.sent / self.rate)
                await self.sink.send(payload)
                self.sent += 1
        finally:
            await self.sink.close()  # waits until the broker has every payload sent

    def stop(self, timeout: float = 120) -> None:
        """Stop sending, wait until every payload sent is acknowledged (or `timeout`)."""
        self._stopping.set()
        self.join(timeout)

    def finish(self, timeout: float) -> bool:
        """Wait until every payload is sent and acknowledged; True when it was in time."""
        self.join(timeout)
        return not self.is_alive()
