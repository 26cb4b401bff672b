"""`serving`: each mart published as `marts/<name>.parquet` for the dashboards.

A publish asset depends on its mart; when a blocking check of the mart fails in
the same run, Dagster does not run the publish step, so the dashboards keep the
last good file.
"""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.dbt import WAREHOUSE_POOL, mart_names
from orchestration.project import marts_dir
from orchestration.publish import preview_markdown, publish_table


def serving_key(mart: str) -> dg.AssetKey:
    """The asset key of a published mart."""
    return dg.AssetKey(["serving", mart])


def publish_asset(mart: str) -> dg.AssetsDefinition:
    """The asset publishing one mart."""

    @dg.asset(
        key=serving_key(mart),
        deps=[dg.AssetKey(mart)],
        group_name="serving",
        description=f"`{mart}` published as `marts/{mart}.parquet` (atomic rename) for the "
        "dashboards, which never open the warehouse.",
        kinds={"parquet"},
        owners=["team:data-engineering"],
        pool=WAREHOUSE_POOL,
    )
    def publish(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            path, rows = publish_table(con, mart, marts_dir())
            preview = preview_markdown(con, mart)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "dagster/row_count": rows,
                "preview": dg.MetadataValue.md(preview),
            }
        )

    return publish


@dg.definitions
def serving() -> dg.Definitions:
    """One publish asset per mart of the dbt project."""
    return dg.Definitions(assets=[publish_asset(mart) for mart in mart_names()])
