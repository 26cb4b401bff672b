"""Publishing a mart: the warehouse table to `marts/<name>.parquet`, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def publish_table(con: duckdb.DuckDBPyConnection, table: str, folder: Path) -> tuple[Path, int]:
    """Write `table` to `<folder>/<table>.parquet` via a temporary file and a rename.

    Readers (the dashboards) see the old file or the new one, never half of one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{table}.parquet"
    temporary = folder / f".{table}.parquet.{os.getpid()}.tmp"
    # a table name cannot be a query parameter: quote it as an identifier
    identifier = '"' + table.replace('"', '""') + '"'
    target = str(temporary).replace("'", "''")
    con.execute(
        f"copy (select * from {identifier}) to '{target}' (format parquet, compression zstd)"
    )
    rows = con.execute(f"select count(*) from {identifier}").fetchone()[0]
    os.replace(temporary, final)
    return final, rows


def preview_markdown(con: duckdb.DuckDBPyConnection, table: str, limit: int = 10) -> str:
    """The first rows of a table as a markdown table (asset metadata)."""
    identifier = '"' + table.replace('"', '""') + '"'
    frame = con.execute(f"select * from {identifier} limit {int(limit)}").df()
    return frame.to_markdown(index=False) if len(frame) else "_(no rows)_"
