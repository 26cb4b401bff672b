"""`lake`: the raw Parquet tables as observable assets (files, rows, newest event time).

Their data version changes when a file lands, so downstream assets show as stale
and the new-data sensor knows what to refresh.
"""

from __future__ import annotations

import dagster as dg

from orchestration.lake_stats import fingerprint, table_stats
from orchestration.project import data_dir
from parkflow.lake import TABLES

DESCRIPTIONS = {
    "events": "Canonical events of every vendor, landed by the streaming worker's normalize agent.",
    "sessions": "Parking sessions (entry, payments, exit) from the sessions agent, every version.",
    "anomalies": "Anomalies of session matching (unmatched exits, duplicates, missed exits...).",
    "alerts": "Device and capacity alert transitions (opened, resolved) from the worker.",
    "deadletter": "Payloads that could not become events, with vendor, reason and bytes.",
}


def lake_key(table: str) -> dg.AssetKey:
    """The asset key of a lake table (dbt sources `lake.<table>` map to it)."""
    return dg.AssetKey(["lake", table])


def lake_asset(table: str) -> dg.SourceAsset:
    """An observable asset for one lake table."""

    @dg.observable_source_asset(
        key=lake_key(table),
        group_name="lake",
        description=f"{DESCRIPTIONS[table]} `lake/raw/{table}/date=YYYY-MM-DD/*.parquet`.",
        tags={"dagster/kind/parquet": ""},
        owners=["team:data-engineering"],
    )
    def observe_table() -> dg.ObserveResult:
        stats = table_stats(data_dir(), table)
        return dg.ObserveResult(
            data_version=dg.DataVersion(fingerprint(data_dir(), table)),
            metadata={
                "files": stats["files"],
                "rows": stats["rows"],
                "newest": str(stats["newest"]),
            },
        )

    return observe_table


@dg.definitions
def lake() -> dg.Definitions:
    """One observable asset per lake table."""
    return dg.Definitions(assets=[lake_asset(table) for table in TABLES])
