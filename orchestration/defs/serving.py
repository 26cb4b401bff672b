"""`serving`: each mart published as `marts/<name>.parquet` for the dashboards.

A publish asset depends on its mart; when a blocking check of the mart fails in
the same run (a Great Expectations check, or a dbt test of severity error), the
mart is not published, so the dashboards keep the last good file.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.dbt import WAREHOUSE_POOL, mart_names, publish_order
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
    def publish(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        refuse_if_checks_failed(context, dg.AssetKey(mart))
        with duckdb.get_connection() as con:
            path, rows = publish_table(con, mart, marts_dir(), publish_order(mart))
            preview = preview_markdown(con, mart)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "dagster/row_count": rows,
                "preview": dg.MetadataValue.md(preview),
            }
        )

    return publish


def refuse_if_checks_failed(context: dg.AssetExecutionContext, mart: dg.AssetKey) -> None:
    """Stop publishing when an error-severity check of the mart failed earlier in this run.

    Great Expectations checks block through Dagster (this step does not even start);
    dbt tests run inside the dbt step, where a blocking failure would stop every mart,
    so they are checked here.
    """
    records = context.instance.all_logs(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    )
    failed = sorted(
        evaluation.check_name
        for record in records
        if (evaluation := record.get_dagster_event().asset_check_evaluation_data).asset_key == mart
        and not evaluation.passed
        and evaluation.severity == dg.AssetCheckSeverity.ERROR
    )
    if failed:
        raise dg.Failure(
            f"{mart.to_user_string()} not published: failed checks {', '.join(failed)}; "
            "the dashboards keep the last published file.",
            metadata={"failed_checks": failed},
        )


@dg.definitions
def serving() -> dg.Definitions:
    """One publish asset per mart of the dbt project."""
    return dg.Definitions(assets=[publish_asset(mart) for mart in mart_names()])
