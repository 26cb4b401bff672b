"""Read-only connections to the warehouse for the quality checks.

`DuckDBResource.get_connection()` always opens read-write, which takes DuckDB's one-writer
lock: two checks running in parallel processes, or a check next to a dbt run, would then
fail. The checks only read, so they open the resource's database read-only (any number of
read-only processes may share the file), retrying briefly while a writer holds it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

RETRIES = 10
RETRY_DELAY_S = 0.5


@contextmanager
def read_only(
    database: str, config: dict[str, Any] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to `database`, in UTC, closed on exit."""
    settings = {k: v for k, v in (config or {}).items() if k != "access_mode"}
    for attempt in range(RETRIES + 1):
        try:
            con = duckdb.connect(database, read_only=True, config=settings)
            break
        except duckdb.IOException:  # a writer (dbt) holds the lock
            if attempt == RETRIES:
                raise
            time.sleep(RETRY_DELAY_S * (attempt + 1))
    try:
        con.execute("set TimeZone = 'UTC'")
        yield con
    finally:
        con.close()
