"""Parser processes: the normalize agent's parsing off the worker's event loop.

A worker runs every agent on one event loop, in one thread, and Python runs one
thread at a time: parsing vendor payloads, a third of that loop's work, kept the
rest waiting. `PARKFLOW_PARSE_PROCESSES` processes (default 1) parse instead
(`streaming/parser_process.py`), each batch split between them; meanwhile the loop
matches sessions, moves messages and lands the previous batch. With 0 the loop
parses itself.

A batch crosses as (vendor, bytes) pairs and comes back as bytes and counts
(`streaming.normalizing.NormalizedBatch`) through the process's stdin and stdout,
read by the event loop itself: a pool's result thread had to win the GIL from the
busy loop for every 64 KiB of the answer, and took longer than the parsing
(benchmarks/RESULTS.md, "Streaming").

A parser process that dies (killed, out of memory, a plugin crashing the
interpreter) costs no payload: its part of the batch is parsed on the loop, a
warning is logged, and a new process starts with the next batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sys
from collections.abc import Sequence

from parkflow.plates import PlateHasher
from parkflow.registry import PluginRegistry
from streaming import metrics
from streaming.normalizing import NormalizedBatch, Normalizer, Payload
from streaming.parser_process import LENGTH, frame

log = logging.getLogger(__name__)
#: Bytes of an answer buffered before the loop reads them (an answer is ~1 KiB a payload).
READ_BUFFER = 16 * 1024 * 1024


class ParserProcess:
    """One `python -m streaming.parser_process`, asked one batch at a time."""

    def __init__(self, setup: tuple[bytes | None, int, int]) -> None:
        self.setup = setup  # (plate key, largest payload, GC threshold): its first message
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process and wait until its plugins are loaded."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "streaming.parser_process",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=READ_BUFFER,
            # the worker's import path: `streaming` may come from its working directory
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
        await self.ask(self.setup)

    async def ask(self, message: object) -> object:
        """Send a message and return the answer (EOFError-like errors if the process died)."""
        process = self.process
        if process is None or process.stdin is None or process.stdout is None:
            raise EOFError("the parser process is not running")
        process.stdin.write(frame(message))
        await process.stdin.drain()
        (size,) = LENGTH.unpack(await process.stdout.readexactly(LENGTH.size))
        return pickle.loads(await process.stdout.readexactly(size))

    async def stop(self) -> None:
        """Close its stdin (it exits), and kill it if it has not within 5 s."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


class Parsers:
    """`Normalizer.normalize` for the normalize agent, in parser processes or inline."""

    def __init__(
        self,
        processes: int,
        plugins: PluginRegistry,
        plate_key: bytes | None,
        max_payload_bytes: int,
        gc_threshold: int = 0,
    ) -> None:
        hasher = None if plate_key is None else PlateHasher(plate_key)
        self.inline = Normalizer(plugins, hasher, max_payload_bytes)
        setup = (plate_key, max_payload_bytes, gc_threshold)
        self.processes = [ParserProcess(setup) for _ in range(processes)]

    async def start(self) -> None:
        """Start the processes and wait until they are ready (their imports take a second)."""
        await asyncio.gather(*(p.start() for p in self.processes if p.process is None))

    async def stop(self) -> None:
        """Stop the processes."""
        await asyncio.gather(*(p.stop() for p in self.processes))

    async def normalize(self, payloads: Sequence[Payload]) -> NormalizedBatch:
        """The batch normalized, in order; split between the parser processes when there are."""
        if not self.processes or not payloads:
            return self.inline.normalize(payloads)
        size = -(-len(payloads) // len(self.processes))  # ceiling division
        starts = range(0, len(payloads), size)
        parts = await asyncio.gather(
            *(
                self._part(process, payloads[start : start + size])
                for process, start in zip(self.processes, starts, strict=False)
            )
        )
        result = parts[0]
        for start, part in zip(starts[1:], parts[1:], strict=True):
            result.extend(part, offset=start)
        return result

    async def _part(self, process: ParserProcess, payloads: Sequence[Payload]) -> NormalizedBatch:
        try:
            if process.process is None:
                await process.start()
            answer = await process.ask(list(payloads))
        except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
            log.warning(
                "a parser process failed (%s): %d payloads are parsed in the worker, and a new "
                "process starts with the next batch",
                type(exc).__name__,
                len(payloads),
            )
            metrics.inc("parkflow_parser_restarts_total")
            await process.stop()
            return self.inline.normalize(payloads)
        assert isinstance(answer, NormalizedBatch)
        return answer
