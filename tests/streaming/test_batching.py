"""Taking batches ahead of the agent and working on them meanwhile (`worked_ahead`)."""

import asyncio

import pytest

from streaming.batching import acknowledge, event_lines, position, prefetched, worked_ahead


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
    # while batch n is worked on, n+1 is taken (one ahead), and n+2 not yet
    assert taken_meanwhile[:3] == [2, 3, 4]


def test_the_next_batch_is_worked_on_while_the_caller_handles_one():
    source = Source(4)
    log = []

    async def work(batch):
        log.append(f"start {batch[0]}")
        await asyncio.sleep(0.02)
        log.append(f"done {batch[0]}")
        return batch[0] * 10

    async def scenario():
        results = []
        async for batch, result in worked_ahead(source.batches(), work):
            log.append(f"handle {batch[0]}")
            results.append((batch[0], result))
            await asyncio.sleep(0.03)  # the caller's own work on the batch
        return results

    results = asyncio.run(scenario())
    assert results == [(0, 0), (1, 10), (2, 20), (3, 30)]
    # batch 2 is taken once the caller is done with batch 0, and worked on while it handles 1
    assert log.index("handle 0") < log.index("start 2") < log.index("handle 1")
    assert log.index("handle 1") < log.index("done 2") < log.index("handle 2")


def test_work_still_running_when_the_caller_stops_is_cancelled():
    source = Source(10)
    cancelled = []

    async def work(batch):
        try:
            await asyncio.sleep(0 if batch == [0] else 10)
        except asyncio.CancelledError:
            cancelled.append(batch[0])
            raise
        return batch

    async def scenario():
        batches = worked_ahead(source.batches(), work)
        async for _ in batches:
            break
        await batches.aclose()
        await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert cancelled == [1]


def test_an_error_in_the_work_reaches_the_caller_in_order():
    source = Source(5)

    async def work(batch):
        if batch == [2]:
            raise ValueError("parsing broke")
        return batch

    seen = []

    async def scenario():
        async for batch, _ in worked_ahead(source.batches(), work):
            seen.extend(batch)

    with pytest.raises(ValueError, match="parsing broke"):
        asyncio.run(scenario())
    assert seen == [0, 1]


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


class Message:
    def __init__(self, offset, value, topic="parking.events", partition=3):
        self.topic, self.partition, self.offset, self.value = topic, partition, offset, value


class Record:
    def __init__(self, message):
        self.message = message


def test_a_record_s_events_are_its_lines_each_read_at_a_place_of_its_own():
    batch = [Record(Message(7, b'{"a":1}\n{"a":2}\n{"a":3}')), Record(Message(8, b'{"a":4}'))]
    lines = [(encoded, message.offset, line) for encoded, message, line in event_lines(batch)]
    assert lines == [(b'{"a":1}', 7, 0), (b'{"a":2}', 7, 1), (b'{"a":3}', 7, 2), (b'{"a":4}', 8, 0)]
    places = [position(message, line) for _, message, line in event_lines(batch)]
    # a record's first event is where a record of one event always was
    assert places == [
        "parking.events:3:7",
        "parking.events:3:7:1",
        "parking.events:3:7:2",
        "parking.events:3:8",
    ]
