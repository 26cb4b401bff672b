"""`sources`: the operator's estate (`PARKFLOW_ESTATE`) as observable assets, one per table.

dbt's source `estate.<table>` maps to `estate/<table>`, so lineage runs from the estate
files to every mart that uses a capacity, a time zone, a tariff or a target. Observing an
asset validates the estate; its data version changes when the table's content does, so the
models below it show as stale after an edit. The dbt build writes the tables before it runs.
"""

from __future__ import annotations

import hashlib

import dagster as dg
import orjson

from orchestration.project import estate
from parkflow.estate.tables import SCHEMAS, estate_rows


def estate_key(table: str) -> dg.AssetKey:
    """The asset key of an estate table (dbt sources `estate.<table>` map to it)."""
    return dg.AssetKey(["estate", table])


def estate_asset(table: str) -> dg.SourceAsset:
    """An observable asset for one estate table."""

    @dg.observable_source_asset(
        key=estate_key(table),
        group_name="sources",
        description=f"The estate's `{table}` (from the files of PARKFLOW_ESTATE, docs/estate.md),"
        f" written to `lake/estate/{table}.parquet` before every dbt build.",
        tags={"dagster/kind/yaml": ""},
        owners=["team:data-engineering"],
    )
    def observe_table() -> dg.ObserveResult:
        rows = estate_rows(estate())[table]
        digest = hashlib.sha256(orjson.dumps(rows, default=str)).hexdigest()[:16]
        return dg.ObserveResult(data_version=dg.DataVersion(digest), metadata={"rows": len(rows)})

    return observe_table


@dg.definitions
def estate_assets() -> dg.Definitions:
    """One observable asset per estate table."""
    return dg.Definitions(assets=[estate_asset(table) for table in SCHEMAS])
