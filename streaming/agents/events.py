"""events: the one agent on parking.events, handing each batch to the session and device rules.

Faust delivers a message to every agent subscribed to its topic, and each delivery costs the
per-message machinery again (queueing, the stream iterator, the acknowledgement). With one
agent instead of a sessions agent and a devices agent, every event is delivered once
(benchmarks/RESULTS.md, "Streaming"). The two work on a batch side by side: each waits on
its files and its changelog while the other computes. A batch is acknowledged only after both
have landed their rows and written their changelogs (at-least-once); the next batch is taken
meanwhile (`streaming/batching.py`).
"""

from __future__ import annotations

import asyncio

from streaming import topics
from streaming.agents import devices, sessions
from streaming.app import app
from streaming.batching import acknowledge, prefetched

#: Records per batch at most: a record carries up to 500 events (`streaming/normalizing.py`),
#: so a batch read from a backlog stays within about 10,000 events (memory, time to ack).
BATCH_RECORDS = 20


@app.agent(topics.events)
async def events(stream) -> None:
    """Sessions from entries, payments and exits; device alerts from telemetry."""
    async for batch in prefetched(stream.noack_take(BATCH_RECORDS, within=0.2)):
        await asyncio.gather(sessions.on_batch(batch), devices.on_batch(batch))
        acknowledge(batch)
