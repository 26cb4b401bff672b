"""The publish step: an error-severity check failure stops a mart, or holds back its facilities."""

import dagster as dg
import duckdb

from orchestration.defs.serving import held_facilities
from orchestration.publish import publish_table
from orchestration.quality.checks import HELD_FACILITIES


def run_with_check(
    severity: dg.AssetCheckSeverity, metadata: dict | None = None, name: str = "mart"
) -> tuple[dg.ExecuteInProcessResult, list]:
    """A mart with one failing, non-blocking check, then its publication: (result, held)."""
    found: list = []

    @dg.asset(name=name, check_specs=[dg.AssetCheckSpec("rate_in_range", asset=name)])
    def mart():
        yield dg.Output(1)
        yield dg.AssetCheckResult(
            check_name="rate_in_range", passed=False, severity=severity, metadata=metadata or {}
        )

    @dg.asset(deps=[mart])
    def published(context: dg.AssetExecutionContext) -> None:
        found.append(held_facilities(context, mart.key))

    return dg.materialize([mart, published], raise_on_error=False), found


def test_an_error_check_failure_naming_no_facility_stops_publication():
    result, _ = run_with_check(dg.AssetCheckSeverity.ERROR)
    failure = result.failure_data_for_node("published")
    assert failure is not None
    assert "mart not published: failed checks rate_in_range" in failure.error.message


def test_a_warning_does_not():
    result, held = run_with_check(dg.AssetCheckSeverity.WARN)
    assert result.success
    assert held == [set()]


def test_a_failure_naming_facilities_holds_back_only_those():
    metadata = {HELD_FACILITIES: "FAC-001, FAC-004"}
    result, held = run_with_check(dg.AssetCheckSeverity.WARN, metadata, "mart_occupancy_hourly")
    assert result.success
    assert held == [{"FAC-001", "FAC-004"}]


def test_a_mart_without_facilities_cannot_hold_one_back():
    metadata = {HELD_FACILITIES: "FAC-001"}
    result, _ = run_with_check(dg.AssetCheckSeverity.WARN, metadata, "mart_data_quality_daily")
    assert not result.success


def test_held_facilities_keep_their_last_published_rows(tmp_path):
    con = duckdb.connect()
    con.execute("create table m as select * from (values ('A', 1), ('B', 1)) v(facility_id, x)")
    publish_table(con, "m", tmp_path)
    con.execute("update m set x = 2")  # a new build: A's rows are wrong
    path, rows = publish_table(con, "m", tmp_path, ["facility_id"], held={"A"})
    assert rows == 2
    assert con.execute(f"select * from '{path}'").fetchall() == [("A", 1), ("B", 2)]
    # held back before a first publication: nothing of it is published
    path, rows = publish_table(con, "m", tmp_path / "new", held={"A"})
    assert con.execute(f"select * from '{path}'").fetchall() == [("B", 2)]
