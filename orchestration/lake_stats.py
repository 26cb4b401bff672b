"""Numbers about the Parquet lake, read straight from its files with DuckDB (no warehouse)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from parkflow.lake import TABLES, table_files


def fingerprint(data_dir: Path, table: str) -> str:
    """Changes whenever a file is added to or removed from the table."""
    files = table_files(data_dir, table)
    newest = max((f.stat().st_mtime_ns for f in files), default=0)
    return f"{len(files)}-{newest}"


def table_stats(data_dir: Path, table: str) -> dict[str, object]:
    """Files, rows and the newest time of the table's date column."""
    files = table_files(data_dir, table)
    if not files:
        return {"files": 0, "rows": 0, "newest": None}
    column = TABLES[table][1]
    with duckdb.connect() as con:  # duckdb 2.0: results come from execute(), not relations
        rows, newest = con.execute(
            f"select count(*), max({column}) from read_parquet($files, union_by_name = true)",
            {"files": [str(f) for f in files]},
        ).fetchone()
    return {"files": len(files), "rows": rows, "newest": newest.isoformat() if newest else None}


def vendor_stats(data_dir: Path, vendor: str) -> dict[str, int]:
    """Events and dead letters one vendor's payloads produced."""
    counts = {}
    with duckdb.connect() as con:
        for table in ("events", "deadletter"):
            files = [str(f) for f in table_files(data_dir, table)]
            counts[table] = (
                con.execute(
                    "select count(*) from read_parquet($files, union_by_name = true) "
                    "where source = $vendor",
                    {"files": files, "vendor": vendor},
                ).fetchone()[0]
                if files
                else 0
            )
    return counts
