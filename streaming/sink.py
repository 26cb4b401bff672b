"""Landing rows in the lake from an agent: off the event loop, timed and counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
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
    if not rows:
        return
    started = time.perf_counter()
    await asyncio.get_running_loop().run_in_executor(_writing, writer.write, table, rows)
    metrics.inc("parkflow_sink_rows_total", len(rows), table=table)
    metrics.inc("parkflow_sink_seconds_total", time.perf_counter() - started, table=table)


async def land_alerts(alerts: Sequence[AlertRecord]) -> None:
    """Land alert transitions and count them by type and state."""
    await land("alerts", alerts)
    for alert in alerts:
        metrics.inc("parkflow_alerts_total", type=alert.alert_type.value, state=alert.state.value)
