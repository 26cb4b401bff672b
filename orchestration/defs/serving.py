"""`serving`: each mart published as `marts/<name>.parquet` for the dashboards.

A publish asset depends on its mart. When an ERROR check of the mart fails in the same run:
- if the check names the facilities its failure is about (`held_facilities`: occupancy out of
  range, an unusable vendor feed, negative amounts, impossible stays), those facilities keep
  their last published rows and every other facility's new rows are published, so a problem
  at one facility never holds back another's numbers;
- otherwise (a dbt test of severity error, a privacy check, an empty mart) the mart is not
  published, and the dashboards keep the last good file.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.dbt import WAREHOUSE_POOL, mart_columns, mart_names, publish_order
from orchestration.project import marts_dir
from orchestration.publish import preview_markdown, publish_table
from orchestration.quality.checks import HELD_FACILITIES


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
        held = held_facilities(context, dg.AssetKey(mart))
        with duckdb.get_connection() as con:
            path, rows = publish_table(con, mart, marts_dir(), publish_order(mart), held)
            preview = preview_markdown(con, mart)
        if held:
            context.log.warning(
                f"{mart}: the rows of {', '.join(sorted(held))} are held back (their last "
                "published rows stay); the other facilities' rows are new."
            )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "dagster/row_count": rows,
                "preview": dg.MetadataValue.md(preview),
                HELD_FACILITIES: ", ".join(sorted(held)),
            }
        )

    return publish


def held_facilities(context: dg.AssetExecutionContext, mart: dg.AssetKey) -> set[str]:
    """The facilities the failed checks of the mart in this run hold back (`held_facilities`).

    Raises (the mart is not published) when a failed ERROR check names no facility, or the
    mart has no facility_id column to hold rows back by. Blocking Great Expectations checks
    that fail with ERROR stop this step before it starts (those naming facilities report WARN,
    so it runs); dbt tests run inside the dbt step, where a blocking failure would stop every
    mart, so they are looked at here.
    """
    records = context.instance.all_logs(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    )
    failed = [
        evaluation
        for record in records
        if (evaluation := record.get_dagster_event().asset_check_evaluation_data).asset_key == mart
        and not evaluation.passed
        and (_named(evaluation) or evaluation.severity == dg.AssetCheckSeverity.ERROR)
    ]
    whole = sorted(e.check_name for e in failed if not _named(e))
    if whole or (failed and "facility_id" not in mart_columns(mart.path[-1])):
        names = whole or sorted(e.check_name for e in failed)
        raise dg.Failure(
            f"{mart.to_user_string()} not published: failed checks {', '.join(names)}; "
            "the dashboards keep the last published file.",
            metadata={"failed_checks": names},
        )
    return {f.strip() for e in failed for f in _named(e).split(",") if f.strip()}


def _named(evaluation: dg.AssetCheckEvaluation) -> str:
    value = evaluation.metadata.get(HELD_FACILITIES)
    return str(value.value) if value is not None else ""


@dg.definitions
def serving() -> dg.Definitions:
    """One publish asset per mart of the dbt project."""
    return dg.Definitions(assets=[publish_asset(mart) for mart in mart_names()])
