"""The Dagster wiring: which checks exist, how they load, what they return, what they block."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

import orchestration.defs.quality as quality_defs
from orchestration.defs.quality import build_quality_checks, quality_checks

#: (asset, check) -> (blocking, severity named in the description)
EXPECTED = {
    ("stg_events", "events_fresh"): (False, "WARN"),
    ("stg_events", "no_clear_plates"): (True, "ERROR"),
    ("stg_sessions", "no_clear_plates"): (True, "ERROR"),
    ("stg_anomalies", "no_clear_plates"): (True, "ERROR"),
    ("fct_parking_sessions", "has_rows"): (False, "WARN"),
    ("fct_parking_sessions", "no_negative_amounts"): (True, "ERROR"),
    ("fct_parking_sessions", "durations_possible"): (True, "ERROR"),
    ("fct_parking_sessions", "no_clear_plates"): (True, "ERROR"),
    ("mart_occupancy_hourly", "has_rows"): (True, "ERROR"),
    ("mart_occupancy_hourly", "occupancy_rate_in_range"): (True, "ERROR"),
    ("mart_occupancy_hourly", "hourly_series_complete"): (False, "ERROR"),
    ("mart_occupancy_hourly", "vendor_feeds_usable"): (True, "ERROR"),
    ("mart_occupancy_hourly", "no_clear_plates"): (True, "ERROR"),
    ("mart_occupancy_daily", "occupancy_rate_in_range"): (True, "ERROR"),
    ("mart_revenue_daily", "has_rows"): (True, "ERROR"),
    ("mart_revenue_daily", "no_negative_amounts"): (True, "ERROR"),
    ("mart_revenue_daily", "vendor_feeds_usable"): (True, "ERROR"),
    ("mart_revenue_daily", "no_clear_plates"): (True, "ERROR"),
    ("mart_device_health", "has_rows"): (False, "WARN"),
    ("mart_device_health", "no_clear_plates"): (True, "ERROR"),
    ("mart_data_quality_daily", "has_rows"): (True, "ERROR"),
    ("mart_data_quality_daily", "dead_letter_share"): (False, "WARN"),
    ("mart_data_quality_daily", "duplicate_share"): (False, "WARN"),
    ("mart_data_quality_daily", "no_clear_plates"): (True, "ERROR"),
}
ASSETS = sorted({asset for asset, _ in EXPECTED})


def spec_of(check: dg.AssetChecksDefinition) -> dg.AssetCheckSpec:
    (spec,) = check.check_specs
    return spec


def find(checks: list[dg.AssetChecksDefinition], asset: str, name: str):
    return next(c for c in checks if spec_of(c).key == dg.AssetCheckKey(dg.AssetKey(asset), name))


def test_the_checks_their_blocking_and_descriptions():
    specs = {(s.asset_key.path[-1], s.name): s for s in map(spec_of, quality_checks)}
    assert set(specs) == set(EXPECTED)
    for key, (blocking, severity) in EXPECTED.items():
        spec = specs[key]
        assert spec.blocking is blocking, key
        assert f"{severity}" in spec.description, key
        assert ("Blocking" in spec.description) is blocking, key
        assert len(spec.description) > 80
    for check in quality_checks:
        assert check.required_resource_keys >= {"duckdb"}


@pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")
def test_the_module_exposes_only_the_checks():
    defs = dg.load_definitions_from_module(quality_defs)
    assert len(list(defs.asset_checks or [])) == len(quality_checks)
    assert not defs.assets and not defs.jobs and not defs.schedules and not defs.sensors


def test_checks_resolve_against_the_dbt_asset_keys(quality_warehouse):
    defs = dg.Definitions(
        assets=[dg.AssetSpec(key) for key in ASSETS],
        asset_checks=quality_checks,
        resources={"duckdb": DuckDBResource(database=str(quality_warehouse))},
    )
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert len(graph.asset_check_keys) == len(EXPECTED)


def test_direct_invocation_returns_a_passing_result(quality_warehouse):
    check = find(quality_checks, "mart_revenue_daily", "no_negative_amounts")
    context = dg.build_asset_check_context(
        resources={"duckdb": DuckDBResource(database=str(quality_warehouse))}
    )
    result = check(context)
    assert isinstance(result, dg.AssetCheckResult)
    assert result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["rows_checked"].value > 0


@pytest.mark.parametrize(
    ("asset", "name", "severity"),
    [
        # failures naming their facilities report WARN: the publish step holds them back
        ("mart_revenue_daily", "no_negative_amounts", dg.AssetCheckSeverity.WARN),
        ("mart_occupancy_hourly", "occupancy_rate_in_range", dg.AssetCheckSeverity.WARN),
        ("mart_occupancy_hourly", "hourly_series_complete", dg.AssetCheckSeverity.ERROR),
        ("fct_parking_sessions", "no_clear_plates", dg.AssetCheckSeverity.ERROR),
        ("mart_data_quality_daily", "dead_letter_share", dg.AssetCheckSeverity.WARN),
        ("mart_device_health", "has_rows", dg.AssetCheckSeverity.WARN),
    ],
)
def test_failing_results_carry_severity_and_rows(bad_warehouse, asset, name, severity):
    check = find(quality_checks, asset, name)
    result = check(duckdb=DuckDBResource(database=str(bad_warehouse.path)))
    assert not result.passed
    assert result.severity == severity
    assert result.description
    if name != "has_rows":
        rows = result.metadata["failing_rows"]
        assert isinstance(rows, dg.MarkdownMetadataValue)
        assert rows.value.startswith("|")


def test_freshness_uses_the_given_clock(quality_warehouse):
    con = duckdb.connect(str(quality_warehouse), read_only=True)
    newest = con.execute("select max(ts) from stg_events").fetchone()[0]
    con.close()
    resource = DuckDBResource(database=str(quality_warehouse))
    late = build_quality_checks(now=lambda: datetime(2030, 1, 1, tzinfo=UTC))
    assert not find(late, "stg_events", "events_fresh")(duckdb=resource).passed
    on_time = build_quality_checks(now=lambda: newest)
    result = find(on_time, "stg_events", "events_fresh")(duckdb=resource)
    assert result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN


def materialize_with_checks(bad_warehouse, mart: str) -> dg.ExecuteInProcessResult:
    """Stand-ins for the dbt model and its publish asset, with the mart's quality checks."""

    @dg.asset(name=mart)
    def model() -> None:
        """Stands for the dbt model (already built in the warehouse)."""

    @dg.asset(deps=[model], name=f"publish_{mart}")
    def publish() -> None:
        """Stands for the serving asset."""

    key = dg.AssetKey(mart)
    checks = [c for c in quality_checks if spec_of(c).asset_key == key]
    return dg.materialize(
        [model, publish, *checks],
        resources={"duckdb": DuckDBResource(database=str(bad_warehouse.path))},
        raise_on_error=False,
    )


def test_a_blocking_failure_stops_publication(bad_warehouse):
    """A clear plate in the sessions: the privacy check blocks the publish asset."""
    result = materialize_with_checks(bad_warehouse, "fct_parking_sessions")
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evaluations["no_clear_plates"].passed
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey("fct_parking_sessions") in materialized
    assert dg.AssetKey("publish_fct_parking_sessions") not in materialized


def test_a_failure_about_some_facilities_lets_the_publish_step_hold_them(bad_warehouse):
    """A negative taking at one facility: the check fails, names the facility and reports WARN,
    so the publish step still runs, to hold back that facility's rows only (serving.py)."""
    result = materialize_with_checks(bad_warehouse, "mart_revenue_daily")
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    failed = evaluations["no_negative_amounts"]
    assert not failed.passed
    assert failed.severity == dg.AssetCheckSeverity.WARN
    facility = bad_warehouse.negative_revenue[0]
    assert failed.description.startswith(f"Holds back {facility}:")
    assert failed.metadata["held_facilities"].value == facility
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey("publish_mart_revenue_daily") in materialized
