"""The Faust patches: applied only to the version they were written for, and faithful."""

import asyncio
import logging

import pytest

from streaming import faust_speedups


def test_a_faust_version_the_patches_were_not_written_for_runs_unpatched(monkeypatch, caplog):
    monkeypatch.setattr(faust_speedups, "_applied", False)
    monkeypatch.setattr(faust_speedups, "version", lambda name: "9.9.9")
    with caplog.at_level(logging.WARNING):
        assert faust_speedups.apply() is False
    assert "9.9.9" in caplog.text and "unpatched" in caplog.text


class FakeConsumer:
    """Just what the patched `wait_first` looks at."""

    def __init__(self, original_calls):
        self.suspend_flow = asyncio.Event()
        self.original_calls = original_calls


@pytest.fixture
def patched_wait_first(monkeypatch):
    from faust.transport.consumer import Consumer

    calls = []

    async def original(self, *coros, timeout=None):
        calls.append(len(coros))
        for coro in coros:
            coro.close()
        return "original"

    monkeypatch.setattr(Consumer, "wait_first", original)
    faust_speedups._patch_consumer_hand_over()
    return Consumer.wait_first, calls


async def test_the_hand_over_awaits_the_callback_directly_while_the_flow_runs(patched_wait_first):
    wait_first, calls = patched_wait_first
    consumer = FakeConsumer(calls)
    handed = []

    async def callback():
        handed.append(1)

    assert await wait_first(consumer, callback(), consumer.suspend_flow.wait()) is None
    assert handed == [1] and calls == []


async def test_a_suspended_flow_or_another_call_takes_fausts_path(patched_wait_first):
    wait_first, calls = patched_wait_first
    consumer = FakeConsumer(calls)

    async def callback():
        pass

    other = asyncio.Event()
    assert await wait_first(consumer, callback(), other.wait()) == "original"
    consumer.suspend_flow.set()
    assert await wait_first(consumer, callback(), consumer.suspend_flow.wait()) == "original"
    assert calls == [2, 2]


def test_the_producer_buffer_size_reads_the_threaded_setting_once_and_counts_alike():
    import faust

    faust_speedups._patch_producer_buffer_size()
    app = faust.App("buffer-check", broker="kafka://127.0.0.1:1")
    buffer = app.producer.buffer
    assert buffer.size == 0
    buffer.pending.put_nowait("a message")
    buffer.pending.put_nowait("another")
    assert buffer.size == 2
    assert buffer.__dict__["_threaded"] is False  # cached from app.conf.producer_threaded
