"""How the agents take their batches and work through them.

Taking the next batch while the agent works on the one before: Faust's `take_events`
and `noack_take` stop filling their buffer while the agent's body runs, so a batch
started to fill only once the one before had been worked on, landed and
acknowledged, and the worker's other stages waited on that in turn
(benchmarks/RESULTS.md, "Streaming"). `prefetched` takes from them in a task of its
own, so the next batch fills meanwhile. The agent acknowledges each batch itself
(`noack_take`) once its output is durable: a batch taken ahead and not yet
acknowledged when the worker stops is read again (at-least-once).

Working through a batch: the rules handle thousands of events per batch, and the
event loop serves nothing else until they yield. An agent yields every `YIELD_EVERY`
events, so the parser processes get their answers read and their next batch sent
in time, and Kafka's fetches and acknowledgements go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

from faust.types import EventT

T = TypeVar("T")
#: Events an agent's rules handle between two yields to the event loop.
YIELD_EVERY = 250


async def prefetched(batches: AsyncIterator[T], depth: int = 1) -> AsyncIterator[T]:
    """`batches` in order, with up to `depth` of them taken ahead of the caller."""
    ready: asyncio.Queue[T] = asyncio.Queue(maxsize=depth)

    async def take() -> None:
        async for batch in batches:
            await ready.put(batch)

    taker = asyncio.create_task(take())
    try:
        while True:
            if ready.empty() and taker.done():
                taker.result()  # the source's error, if it ended with one
                return
            getting = asyncio.ensure_future(ready.get())
            await asyncio.wait({getting, taker}, return_when=asyncio.FIRST_COMPLETED)
            if getting.done():
                yield getting.result()
            else:
                getting.cancel()
    finally:
        taker.cancel()


def acknowledge(batch: Iterable[EventT]) -> None:
    """Acknowledge a batch's events: their offsets may be committed from now on.

    `Event.ack` itself rather than `await stream.ack(event)`, which adds a coroutine and two
    sensor calls per event; the worker's monitor records nothing per event (streaming/lean.py).
    """
    for event in batch:
        event.ack()
