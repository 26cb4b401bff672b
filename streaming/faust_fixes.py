"""Two correctness fixes to faust-streaming's consumer: no message is skipped after a worker
(re)starts or the group rebalances.

After a rebalance (a worker starting, joining or leaving), Faust empties the agents' input
buffers and seeks every partition back to its committed offset, so that what was dropped is
read again. Two things defeat that in 0.15.3; both were seen here when a worker SIGKILLed and
restarted during a replay lost payloads (`tests/reliability/test_worker_crash.py`,
`benchmarks/crash_recovery.py`).

1. Gaps that are not gaps. The fetch loop (`Consumer._drain_messages`) keeps a "read offset"
   per partition:

   - a message below it is dropped as already read ("DROPPED MESSAGE");
   - a jump above it is taken for a gap in the log (as compaction leaves) and the offsets in
     between are acknowledged as if processed.

   The seek can land while the loop is still handing over records fetched before it. The rest
   of the old batch then looks like a jump, the "gap" is acknowledged, the records read again
   are dropped as already read, and the next commit moves past messages that no agent
   processed: 1 to about 300 payloads lost in 3 of 5 drills, with "gap" and "dropped" log
   entries on exactly those offsets. Fix: the read offset no longer filters. Every fetched
   message reaches the agents, a message read again reaches them again (at-least-once: the
   lake and the matcher de-duplicate by id and position, and Faust ignores a second
   acknowledgement of an offset), and no offset counts as processed unless an agent
   acknowledged it. ParkFlow's stream topics are neither compacted nor transactional (the
   changelogs are read by table recovery, without acknowledgements): no real gaps, commits
   still advance.

2. Buffers emptied after the seek. When tables had to be restored, `Recovery.
   on_recovery_completed` resumes the stream partitions while the flow is already running,
   seeks them to their committed offsets, and only then resumes flow control, which empties
   the agents' input buffers. Records fetched after the seek and emptied with the buffers are
   never read again; with fix 1 the commit stalls before them (17-22 records per partition,
   until the next restart), without it they are lost. Fix: once recovery completed (and no new
   rebalance started), seek to the committed offsets again, so that whatever the buffers lost
   is read again.

Like `streaming.faust_speedups`: one module, pinned to the faust-streaming version it was
written for, both off with `PARKFLOW_FAUST_REFETCH_FIX=false`.
"""

from __future__ import annotations

import logging
from importlib.metadata import version
from typing import Any

log = logging.getLogger(__name__)

#: the faust-streaming releases this fix was written for and checked with
WRITTEN_FOR = ("0.15.3",)

_applied = False


class UnfilteredReadOffsets(dict):
    """Faust's read offsets: still written (seeks and rebalances update them), but read back
    as "nothing read yet", so the fetch loop neither drops nor gap-acknowledges a message."""

    def __getitem__(self, tp: Any) -> None:
        return None


def apply() -> bool:
    """Apply the fix once; False (and a warning) on a faust-streaming it was not written for."""
    global _applied
    if _applied:
        return True
    installed = version("faust-streaming")
    if installed not in WRITTEN_FOR:
        log.warning(
            "faust-streaming %s is not %s: the re-fetch fix is not applied; check whether its "
            "consumer still drops re-fetched messages (streaming/faust_fixes.py)",
            installed,
            " or ".join(WRITTEN_FOR),
        )
        return False
    _deliver_messages_read_again()
    _seek_again_after_recovery()
    _applied = True
    return True


def _deliver_messages_read_again() -> None:
    from faust.transport.consumer import Consumer

    original_init = Consumer.__init__

    def init_with_unfiltered_read_offsets(self, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._read_offset = UnfilteredReadOffsets()

    Consumer.__init__ = init_with_unfiltered_read_offsets


def _seek_again_after_recovery() -> None:
    from faust.tables.recovery import Recovery

    original = Recovery.on_recovery_completed

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        await original(self, generation_id)
        consumer = self.app.consumer
        if self.app.consumer_generation_id == generation_id and consumer.assignment():
            await consumer.perform_seek()  # what the emptied buffers held is read again

    Recovery.on_recovery_completed = on_recovery_completed
