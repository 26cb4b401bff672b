"""Taking batches ahead of the agent (`prefetched`)."""

import asyncio

import pytest

from streaming.batching import acknowledge, prefetched


class Source:
    """An async source of numbered batches that records how far it has been taken."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.taken = 0
        self.closed = False

    async def batches(self):
        try:
            for number in range(self.count):
                if number == self.fail_at:
                    raise ValueError("source broke")
                self.taken += 1
                yield [number]
                await asyncio.sleep(0)
        finally:
            self.closed = True


def test_batches_come_in_order_and_the_next_is_taken_while_one_is_worked_on():
    source = Source(5)

    async def scenario():
        seen, taken_meanwhile = [], []
        async for batch in prefetched(source.batches()):
            await asyncio.sleep(0.01)  # the agent's work on the batch
            taken_meanwhile.append(source.taken)
            seen += batch
        return seen, taken_meanwhile

    seen, taken_meanwhile = asyncio.run(scenario())
    assert seen == [0, 1, 2, 3, 4]
    # while batch n is worked on, n+1 is taken and n+2 is being taken (one queued ahead)
    assert taken_meanwhile[:3] == [3, 4, 5]


def test_an_error_in_the_source_reaches_the_agent_after_the_batches_before_it():
    source = Source(5, fail_at=2)

    seen = []

    async def scenario():
        async for batch in prefetched(source.batches()):
            seen.extend(batch)

    with pytest.raises(ValueError, match="source broke"):
        asyncio.run(scenario())
    assert seen == [0, 1]


def test_an_agent_that_stops_early_stops_the_taking():
    source = Source(100)

    async def scenario():
        batches = prefetched(source.batches())
        async for batch in batches:
            if batch == [1]:
                break
        await batches.aclose()
        await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert source.closed and source.taken < 5


def test_acknowledge_acks_every_event_of_the_batch_once():
    class Event:
        acks = 0

        def ack(self):
            self.acks += 1
            return True

    batch = [Event() for _ in range(3)]
    acknowledge(batch)
    assert [event.acks for event in batch] == [1, 1, 1]
