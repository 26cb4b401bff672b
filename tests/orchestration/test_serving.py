"""The publish step refuses a mart whose error-severity check failed in the same run."""

import dagster as dg

from orchestration.defs.serving import refuse_if_checks_failed


def run_with_check(severity: dg.AssetCheckSeverity) -> dg.ExecuteInProcessResult:
    """A mart with one failing, non-blocking check (as dbt tests are), then its publication."""

    @dg.asset(check_specs=[dg.AssetCheckSpec("rate_in_range", asset="mart")])
    def mart():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="rate_in_range", passed=False, severity=severity)

    @dg.asset(deps=[mart])
    def published(context: dg.AssetExecutionContext) -> None:
        refuse_if_checks_failed(context, mart.key)

    return dg.materialize([mart, published], raise_on_error=False)


def test_an_error_check_failure_stops_publication():
    result = run_with_check(dg.AssetCheckSeverity.ERROR)
    failure = result.failure_data_for_node("published")
    assert failure is not None
    assert "mart not published: failed checks rate_in_range" in failure.error.message


def test_a_warning_does_not():
    result = run_with_check(dg.AssetCheckSeverity.WARN)
    assert result.success
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} == {
        "mart",
        "published",
    }
