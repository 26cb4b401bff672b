"""How the agents take their batches and work through them.

Taking the next batch while the agent works on the one before: Faust's `take_events`
and `noack_take` stop filling their buffer while the agent's body runs, so a batch
started to fill only once the one before had been worked on, landed and
acknowledged, and the worker's other stages waited on that in turn
(benchmarks/RESULTS.md, "Streaming"). `worked_ahead` takes from them in a task of its
own and starts the work on each batch as it is taken (normalize: the parsing), so the
next batch fills and is worked on meanwhile; `prefetched` only takes ahead. The agent
acknowledges each batch itself (`noack_take`) once its output is durable: a batch taken
ahead and not yet acknowledged when the worker stops is read again (at-least-once).

Working through a batch: the rules handle thousands of events per batch, and the
event loop serves nothing else until they yield. An agent yields every `YIELD_EVERY`
events, so the parser processes get their answers read and their next batch sent
in time, and Kafka's fetches and acknowledgements go on.

Reading a batch of parking.events: a record carries one or more canonical events as JSON
lines (`streaming/normalizing.py`); `event_lines` gives each with its record and line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

from faust.types import EventT, Message

T = TypeVar("T")
R = TypeVar("R")
#: Events an agent's rules handle between two yields to the event loop.
YIELD_EVERY = 250


async def worked_ahead(
    items: AsyncIterator[T], work: Callable[[T], Awaitable[R]], depth: int = 1
) -> AsyncIterator[tuple[T, R]]:
    """`items` in order, each with the result of `work(item)`.

    A task takes the items, up to `depth` ahead of the caller, and starts their work as it
    takes them: while the caller handles one item, the next is taken and worked on. Work
    still running when the caller stops is cancelled.
    """
    room = asyncio.Semaphore(depth + 1)  # the caller's item and `depth` ahead of it
    ready: asyncio.Queue[tuple[T, asyncio.Future[R]]] = asyncio.Queue()

    async def take() -> None:
        while True:
            await room.acquire()
            try:
                item = await anext(items)
            except StopAsyncIteration:
                return
            ready.put_nowait((item, asyncio.ensure_future(work(item))))

    taker = asyncio.create_task(take())
    try:
        while True:
            if ready.empty() and taker.done():
                taker.result()  # the source's error, if it ended with one
                return
            getting = asyncio.ensure_future(ready.get())
            await asyncio.wait({getting, taker}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                continue
            item, result = getting.result()
            yield item, await result
            room.release()
    finally:
        taker.cancel()
        while not ready.empty():
            ready.get_nowait()[1].cancel()


async def prefetched(batches: AsyncIterator[T], depth: int = 1) -> AsyncIterator[T]:
    """`batches` in order, with up to `depth` of them taken ahead of the caller."""
    async for batch, _ in worked_ahead(batches, _nothing, depth):
        yield batch


async def _nothing(_: object) -> None:
    return None


def acknowledge(batch: Iterable[EventT]) -> None:
    """Acknowledge a batch's events: their offsets may be committed from now on.

    `Event.ack` itself rather than `await stream.ack(event)`, which adds a coroutine and two
    sensor calls per event; the worker's monitor records nothing per event (streaming/lean.py).
    """
    for event in batch:
        event.ack()


def event_lines(batch: Iterable[EventT]) -> Iterator[tuple[bytes, Message, int]]:
    """Each canonical event's JSON in a batch of parking.events records, with the record's
    message and the event's line in it (a record holds one or more events as JSON lines)."""
    for event in batch:
        message = event.message
        for line, encoded in enumerate((message.value or b"").split(b"\n")):
            yield encoded, message, line


def position(message: Message, line: int) -> str:
    """Where an event was read: "topic:partition:offset", and ":line" after a record's first
    (what a record of one event always had)."""
    where = f"{message.topic}:{message.partition}:{message.offset}"
    return f"{where}:{line}" if line else where
