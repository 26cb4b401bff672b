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
interpreter) costs no payload: its parts of the batches asked are parsed on the loop, a
warning is logged, and a new process starts with the next batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sys
from collections import deque
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
    """One `python -m streaming.parser_process`. Batches may be asked while others are being
    parsed: the process answers in the order asked, so it starts on the next batch as soon as
    it has sent an answer, while the loop still works on that answer."""

    def __init__(self, setup: tuple[bytes | None, int, int]) -> None:
        self.setup = setup  # (plate key, largest payload, GC threshold): its first message
        self.process: asyncio.subprocess.Process | None = None
        self._answers: deque[asyncio.Future] = deque()  # the running process's, in order asked
        self._reader: asyncio.Task | None = None
        self._starting = asyncio.Lock()
        self.starts = 0

    async def start(self) -> None:
        """Start the process unless it runs, and wait until its plugins are loaded."""
        async with self._starting:  # a batch split between callers starts it once
            if self.process is not None:
                return
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-P",  # not the working directory first: the worker's own modules, as below
                "-m",
                "streaming.parser_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=READ_BUFFER,
                # the worker's import path: `streaming` may come from its working directory
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
            self.process, self._answers = process, deque()
            self.starts += 1
            if self.starts > 1:
                metrics.inc("parkflow_parser_restarts_total")
            self._reader = asyncio.create_task(self._read_answers(process, self._answers))
            try:
                await self.ask(self.setup)
            except BaseException:
                self.discard(process)  # the next batch starts another
                raise

    async def ask(self, message: object) -> object:
        """Send a message and return its answer (EOFError if the process is gone)."""
        process = self.process
        if process is None or process.stdin is None:
            raise EOFError("the parser process is not running")
        request = frame(message)
        answer = asyncio.get_running_loop().create_future()
        self._answers.append(answer)  # in the order written: the answers come in that order
        try:
            process.stdin.write(request)
            await process.stdin.drain()
        except BaseException:
            answer.cancel()  # its answer will not come
            raise
        return await answer

    async def _read_answers(
        self, process: asyncio.subprocess.Process, answers: deque[asyncio.Future]
    ) -> None:
        """Hand each answer to its question, in order, until the process's stdout ends; then
        the process is no longer used and its unanswered questions fail."""
        assert process.stdout is not None
        try:
            while True:
                (size,) = LENGTH.unpack(await process.stdout.readexactly(LENGTH.size))
                answer = pickle.loads(await process.stdout.readexactly(size))
                waiting = answers.popleft()
                if not waiting.done():  # not given up by its caller
                    waiting.set_result(answer)
        except (OSError, EOFError, asyncio.IncompleteReadError, pickle.UnpicklingError) as exc:
            # its stdout is closed: it is exiting (stopped) or gone; `stop` reaps it
            self._forget(process, answers, f"ended ({type(exc).__name__})", kill=False)

    def _forget(
        self,
        process: asyncio.subprocess.Process,
        answers: deque[asyncio.Future],
        why: str,
        kill: bool = True,
    ) -> None:
        """Stop using `process` (killed, if `kill` and it still runs) and fail its unanswered
        questions."""
        if process is self.process:
            self.process = None
        if kill and process.returncode is None:
            process.kill()
        while answers:
            waiting = answers.popleft()
            if not waiting.done():
                waiting.set_exception(EOFError(f"the parser process {why}"))

    def discard(self, process: asyncio.subprocess.Process | None) -> None:
        """Give up on `process` after it failed (if it is still the current one); the next
        `start` starts another."""
        if process is None or process is not self.process:
            return
        if self._reader is not None:
            self._reader.cancel()
        self._forget(process, self._answers, "was discarded")

    async def stop(self) -> None:
        """Close its stdin (it exits), and kill it if it has not within 5 s."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        self._forget(process, self._answers, "was stopped")


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
        await asyncio.gather(*(p.start() for p in self.processes))

    async def stop(self) -> None:
        """Stop the processes."""
        await asyncio.gather(*(p.stop() for p in self.processes))

    async def normalize(
        self,
        payloads: Sequence[Payload],
        partitions: int = 1,
        received: Sequence[float | None] | None = None,
    ) -> NormalizedBatch:
        """The batch normalized, in order, for a parking.events of `partitions` partitions
        (`received`: `Normalizer.normalize`'s); split between the parser processes when there
        are.

        Calls may overlap (the next batch asked before the answer to this one is used): each
        process answers its parts in the order asked."""
        if not self.processes or not payloads:
            return self.inline.normalize(payloads, partitions, received)
        size = -(-len(payloads) // len(self.processes))  # ceiling division
        starts = range(0, len(payloads), size)
        parts = await asyncio.gather(
            *(
                self._part(
                    process,
                    payloads[start : start + size],
                    partitions,
                    None if received is None else received[start : start + size],
                )
                for process, start in zip(self.processes, starts, strict=False)
            )
        )
        result = parts[0]
        for start, part in zip(starts[1:], parts[1:], strict=True):
            result.extend(part, offset=start)
        return result

    async def _part(
        self,
        process: ParserProcess,
        payloads: Sequence[Payload],
        partitions: int,
        received: Sequence[float | None] | None,
    ) -> NormalizedBatch:
        asked = None
        try:
            await process.start()
            asked = process.process
            answer = await process.ask((list(payloads), partitions, received))
        except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
            log.warning(
                "a parser process failed (%s): %d payloads are parsed in the worker, and a new "
                "process starts with the next batch",
                type(exc).__name__,
                len(payloads),
            )
            process.discard(asked)
            return self.inline.normalize(payloads, partitions, received)
        assert isinstance(answer, NormalizedBatch)
        return answer
