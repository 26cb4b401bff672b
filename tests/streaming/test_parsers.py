"""Parser processes: real `python -m streaming.parser_process` children, against inline parsing."""

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from parkflow.plates import PlateHasher
from parkflow.registry import PluginRegistry
from streaming.metrics import render
from streaming.normalizing import Normalizer
from streaming.parser_process import LENGTH, frame
from streaming.parsers import Parsers
from tests.streaming.test_normalizing import KEY, MAX_BYTES, comparable, simulated_payloads

REGISTRY = PluginRegistry.discover()


@pytest.fixture(scope="module")
def payloads():
    return simulated_payloads(hours=3, seed=8)


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.mark.parametrize("processes", [0, 1, 2, 3])
def test_parser_processes_give_what_parsing_inline_gives(payloads, processes):
    inline = Normalizer(REGISTRY, PlateHasher(KEY), MAX_BYTES).normalize(payloads)

    async def scenario():
        parsers = Parsers(processes, REGISTRY, KEY, MAX_BYTES, gc_threshold=50_000)
        await parsers.start()
        try:
            first = await parsers.normalize(payloads)
            second = await parsers.normalize(payloads[:7])  # fewer payloads than some splits
            return first, second, await parsers.normalize([])
        finally:
            await parsers.stop()

    first, second, empty = run(scenario())
    assert comparable(first) == comparable(inline)
    few = Normalizer(REGISTRY, PlateHasher(KEY), MAX_BYTES).normalize(payloads[:7])
    assert comparable(second) == comparable(few)
    assert empty.event_count == 0 and not empty.rejected


def test_a_parser_process_that_dies_costs_no_payload_and_is_replaced(payloads):
    inline = Normalizer(REGISTRY, None, MAX_BYTES).normalize(payloads)

    async def scenario():
        parsers = Parsers(1, REGISTRY, None, MAX_BYTES)
        await parsers.start()
        try:
            first = parsers.processes[0].process
            os.kill(first.pid, signal.SIGKILL)
            await first.wait()
            after_kill = await parsers.normalize(payloads)  # parsed in the worker
            replaced = await parsers.normalize(payloads)  # by a new process
            return first.pid, parsers.processes[0].process.pid, after_kill, replaced
        finally:
            await parsers.stop()

    killed, now, after_kill, replaced = run(scenario())
    assert comparable(after_kill) == comparable(inline) == comparable(replaced)
    assert now != killed
    assert "parkflow_parser_restarts_total 1" in render()


def test_overlapping_batches_each_get_their_own_answer(payloads):
    normalizer = Normalizer(REGISTRY, PlateHasher(KEY), MAX_BYTES)
    parts = [payloads[:400], payloads[400:450], payloads[450:1200]]

    async def scenario():
        parsers = Parsers(1, REGISTRY, KEY, MAX_BYTES)
        await parsers.start()
        try:  # all three asked before the first answer is read
            return await asyncio.gather(*(parsers.normalize(part, 4) for part in parts))
        finally:
            await parsers.stop()

    answers = run(scenario())
    assert [comparable(a) for a in answers] == [
        comparable(normalizer.normalize(part, 4)) for part in parts
    ]


def test_batches_waiting_on_a_process_that_dies_are_parsed_in_the_worker(payloads):
    normalizer = Normalizer(REGISTRY, None, MAX_BYTES)
    parts = [payloads[:600], payloads[600:1200]]

    async def scenario():
        parsers = Parsers(1, REGISTRY, None, MAX_BYTES)
        await parsers.start()
        try:
            child = parsers.processes[0].process
            asked = [asyncio.ensure_future(parsers.normalize(part, 2)) for part in parts]
            await asyncio.sleep(0)  # both written to the child
            os.kill(child.pid, signal.SIGKILL)
            answers = await asyncio.gather(*asked)
            again = await parsers.normalize(parts[0], 2)  # by a new process
            return answers, again, parsers.processes[0].process.pid != child.pid
        finally:
            await parsers.stop()

    answers, again, replaced = run(scenario())
    expected = [comparable(normalizer.normalize(part, 2)) for part in parts]
    assert [comparable(a) for a in answers] == expected
    assert comparable(again) == expected[0] and replaced


def test_stop_ends_the_processes():
    async def scenario():
        parsers = Parsers(2, REGISTRY, KEY, MAX_BYTES)
        await parsers.start()
        processes = [p.process for p in parsers.processes]
        await parsers.stop()
        return [p.returncode for p in processes]

    assert run(scenario()) == [0, 0]


def test_a_parser_process_exits_when_its_worker_is_gone():
    """Its stdin closes whenever the worker dies, SIGKILL included: it must not linger."""
    child = subprocess.Popen(
        [sys.executable, "-m", "streaming.parser_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )
    child.stdin.write(frame((None, MAX_BYTES, 0)))
    child.stdin.flush()
    (size,) = LENGTH.unpack(child.stdout.read(LENGTH.size))
    assert child.stdout.read(size)  # ready
    child.stdin.close()  # what the kernel does for a worker killed with SIGKILL
    assert child.wait(timeout=10) == 0
