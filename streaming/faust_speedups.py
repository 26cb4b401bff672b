"""Four patches to faust-streaming's consumer path, measured on this machine.

Faust's own machinery costs more per message than parsing and matching a
parking event. ARCHITECTURE ("What limits Faust's speed") allows patching a
dependency's internals only as a last resort, in one module, pinned to the
version it was written for, switchable, and justified by a benchmark line.
This is that module; `PARKFLOW_FAUST_SPEEDUPS=0` leaves Faust untouched, and
`benchmarks/stream.py --no-speedups` measures the difference
(benchmarks/RESULTS.md).

1. The consumer hands every fetched message to the streams with
   `wait_first(callback(message), suspend_flow.wait())`: four new tasks per
   message, so that a rebalance can interrupt a blocked hand-over. While the
   flow is not suspended the patch awaits the callback directly; when it is,
   Faust's own path runs.
2. The compiled stream iterator does `await asyncio.sleep(0)` before every
   message, a full event-loop cycle each. The patch makes that await return
   at once; the iterator still yields to the loop whenever its queue is empty,
   and the agents here take batches (`take_events`) that yield between batches.
3. Faust hard-codes the consumer's fetch max wait at 1500 ms. The embedded
   broker does not answer a waiting Fetch early when data arrives, so on a
   quiet topic every hop of the pipeline can wait that long (ARCHITECTURE,
   Kafka). The patch sets it from `PARKFLOW_KAFKA_FETCH_MAX_WAIT_MS`.
4. Before handing each message over, the conductor checks the size of the
   producer's buffer, which reads the `producer_threaded` setting through
   Faust's settings registry every time (5% of a no-op agent). The patch
   reads it once per buffer; the setting cannot change while the app runs.

The third cost ARCHITECTURE lists, the root logger left at DEBUG, is not a
patch: `parkflow worker` runs a `faust.Worker` without the terminal spinner
that sets it (parkflow/cli/worker.py).
"""

from __future__ import annotations

import logging
from importlib.metadata import version

log = logging.getLogger(__name__)

#: the faust-streaming releases these patches were written for and measured with
WRITTEN_FOR = ("0.15.3",)

_applied = False


def apply(fetch_max_wait_ms: int = 100) -> bool:
    """Apply the patches once; False (and a warning) on a faust-streaming they do not fit."""
    global _applied
    if _applied:
        return True
    installed = version("faust-streaming")
    if installed not in WRITTEN_FOR:
        log.warning(
            "faust-streaming %s is not %s: running Faust unpatched (slower); "
            "re-measure and update streaming/faust_speedups.py",
            installed,
            " or ".join(WRITTEN_FOR),
        )
        return False
    _patch_consumer_hand_over()
    _patch_stream_iterator_yield()
    _patch_fetch_max_wait(fetch_max_wait_ms)
    _patch_producer_buffer_size()
    _applied = True
    return True


def _patch_consumer_hand_over() -> None:
    from faust.transport.consumer import Consumer

    original = Consumer.wait_first

    async def wait_first(self, *coros, timeout=None):
        # Only the hand-over in Consumer._drain_messages passes exactly
        # (callback coroutine, suspend_flow.wait() coroutine).
        if len(coros) == 2 and timeout is None and not self.suspend_flow.is_set():
            handed, suspend = coros
            frame = getattr(suspend, "cr_frame", None)
            if frame is not None and frame.f_locals.get("self") is self.suspend_flow:
                suspend.close()  # never started: closing it avoids a "never awaited" warning
                await handed
                return None  # _drain_messages ignores the result
        return await original(self, *coros, timeout=timeout)

    Consumer.wait_first = wait_first


def _patch_stream_iterator_yield() -> None:
    try:
        from faust._cython import streams as compiled
    except ImportError:  # pure-Python iterator: nothing compiled to patch
        return

    async def no_yield(_delay: float = 0) -> None:
        return None

    # the compiled iterator looks `sleep` up in its module's globals on each call
    compiled.sleep = no_yield


def _patch_fetch_max_wait(milliseconds: int) -> None:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    original = AIOKafkaConsumerThread._create_worker_consumer

    def create_worker_consumer(self, transport):
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = milliseconds  # aiokafka reads it when the consumer starts
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = create_worker_consumer


def _patch_producer_buffer_size() -> None:
    from faust.transport.producer import ProducerBuffer

    def size(self) -> int:
        threaded = self.__dict__.get("_threaded")
        if threaded is None:
            threaded = self.__dict__["_threaded"] = bool(self.app.conf.producer_threaded)
        if threaded:
            return len(self.queue._queue) if self.queue else 0
        return len(self.pending._queue)

    ProducerBuffer.size = property(size, doc=ProducerBuffer.size.__doc__)
