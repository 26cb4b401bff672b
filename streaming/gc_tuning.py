"""Python's garbage collector tuned for a process that allocates per message."""

from __future__ import annotations

import gc


def tune_garbage_collector(threshold: int) -> None:
    """Collect the young generation every `threshold` allocations (0: Python's defaults).

    The worker allocates hundreds of short-lived objects per message (events, records,
    futures), so at Python's default of 700 a young collection ran every few messages and
    took 15-20% of its time (benchmarks/RESULTS.md, "Streaming"). The objects made at start-up
    (modules, pydantic schemas, plugins) are frozen out of every later collection. The worker
    and its parser processes both call it; it lives here so that a parser process does not
    import the CLI (typer, rich, the Kafka client) to start.
    """
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(threshold, middle, old)
