"""Landing rows in the lake from an agent: off the event loop, timed and counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas  # noqa: F401  pyarrow imports it on the first Parquet write: pay that at start-up

from parkflow.lake import LakeWriter
from parkflow.records import AlertRecord
from streaming import metrics
from streaming.app import settings

writer = LakeWriter(settings.data_dir)
#: Two threads write the files: the events' files from normalize and the others' side by
#: side. Each thread's C++ parsers and encoders keep a malloc arena of their own: the default
#: pool (up to 6 threads) held ~120 MiB more at peak for no more speed (measured).
_writing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lake-writer")


async def land(table: str, rows: Sequence[Any]) -> None:
    """Write `rows` to a lake table (nothing when empty); returns once the files exist."""
    if rows:
        await _written(table, len(rows), writer.write, table, rows)


async def land_event_lines(blocks: dict[tuple[str, bool], bytes], rows: int) -> None:
    """Write `rows` events given as `EventLines.joined()` to lake/raw/events."""
    if rows:
        await _written("events", rows, writer.write_event_lines, blocks)


async def _written(table: str, rows: int, write: Callable[..., Any], *args: Any) -> None:
    started = time.perf_counter()
    await asyncio.get_running_loop().run_in_executor(_writing, write, *args)
    metrics.inc("parkflow_sink_rows_total", rows, table=table)
    metrics.inc("parkflow_sink_seconds_total", time.perf_counter() - started, table=table)


async def land_alerts(alerts: Sequence[AlertRecord]) -> None:
    """Land alert transitions and count them by type and state."""
    await land("alerts", alerts)
    for alert in alerts:
        metrics.inc("parkflow_alerts_total", type=alert.alert_type.value, state=alert.state.value)
