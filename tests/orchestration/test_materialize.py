"""The whole graph materialized in process on a simulated week: checks pass, marts published."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from orchestration.defs.dbt import mart_names, publish_order
from orchestration.project import marts_dir, warehouse_path


@pytest.fixture(scope="session")
def refreshed(definitions):
    """One run of `refresh_marts` (dbt build, checks, publishing) over the week."""
    job = definitions.resolve_job_def("refresh_marts")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return result


def test_the_groups_of_the_architecture_are_all_there(definitions):
    groups = {spec.group_name for spec in definitions.resolve_all_asset_specs() if spec.group_name}
    assert {"sources", "lake", "staging", "marts", "serving", "dashboards"} <= groups


def test_the_refresh_run_succeeds_with_every_check_passing(refreshed):
    assert refreshed.success
    checks = refreshed.get_asset_check_evaluations()
    assert checks, "the run evaluated no checks"
    failed = [f"{c.asset_key.to_user_string()}:{c.check_name}" for c in checks if not c.passed]
    assert failed == []


def test_every_mart_is_published_and_matches_the_warehouse(refreshed, week_lake):
    assert refreshed.success
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        for mart in mart_names():
            path = marts_dir() / f"{mart}.parquet"
            assert path.exists(), mart
            difference = con.execute(
                f"select count(*) from ((select * from {mart} except all "
                f"select * from read_parquet($p)) union all (select * from read_parquet($p) "
                f"except all select * from {mart}))",
                {"p": str(path)},
            ).fetchone()[0]
            rows = con.execute(f"select count(*) from {mart}").fetchone()[0]
            assert difference == 0, mart
            assert rows > 0 or mart in {"mart_alerts"}, f"{mart} is empty"


def test_marts_are_published_in_their_declared_order(refreshed):
    """The marts the dashboards read by period are written sorted by it (`publish_order_by`)."""
    ordered = {mart: publish_order(mart) for mart in mart_names() if publish_order(mart)}
    assert "fct_parking_sessions" in ordered
    for mart, columns in ordered.items():
        keys = ", ".join(columns)
        out_of_order = duckdb.execute(
            "select count(*) from (select file_row_number, row_number() over "
            f"(order by {keys}, file_row_number) - 1 as sorted_position "
            "from read_parquet($path, file_row_number = true)) "
            "where file_row_number <> sorted_position",
            {"path": str(marts_dir() / f"{mart}.parquet")},
        ).fetchone()[0]
        assert out_of_order == 0, f"{mart} is not sorted by {keys}"


def test_every_declared_publish_order_is_a_column_of_its_mart(refreshed):
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        for mart in mart_names():
            columns = {row[0] for row in con.execute(f"describe {mart}").fetchall()}
            assert set(publish_order(mart)) <= columns, mart


def test_publish_metadata_names_rows_and_preview(refreshed):
    materializations = refreshed.asset_materializations_for_node("serving__mart_revenue_daily")
    assert materializations
    metadata = materializations[-1].metadata
    assert metadata["dagster/row_count"].value > 0
    assert "|" in metadata["preview"].value


def test_sources_and_lake_assets_observe_the_lake(week_lake):
    from orchestration.defs.lake import lake_asset
    from orchestration.defs.sources import source_assets
    from parkflow.lake import read_table

    vendors = source_assets()
    observe = dg.define_asset_job("observe", selection=dg.AssetSelection.all(include_sources=True))
    definitions = dg.Definitions(assets=[*vendors, lake_asset("events")], jobs=[observe])
    result = definitions.resolve_job_def("observe").execute_in_process()
    assert result.success
    observed = {
        event.asset_key.to_user_string(): event.event_specific_data.asset_observation.metadata
        for event in result.get_asset_observation_events()
    }
    rows = read_table(week_lake, "events").num_rows
    assert observed["lake/events"]["rows"].value == rows
    per_vendor = sum(observed[v.key.to_user_string()]["events"].value for v in vendors)
    assert per_vendor == rows
