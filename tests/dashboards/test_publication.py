"""The publication status the pages read: stale marts, their warning, check outcomes."""

from dashboards.publication import PublicationStatus, stale_warning
from orchestration.publication import CheckResult, RunOutcome, merge_status, write_status


def outcome(run: str, at: str, published: set[str], checks: list[CheckResult]) -> RunOutcome:
    planned = {"mart_occupancy_hourly", "mart_revenue_daily"}
    return RunOutcome(run, "refresh_marts", "FAILURE", at, planned, published, checks)


def test_a_held_back_mart_is_stale_with_its_reasons(tmp_path):
    good = outcome(
        "r1", "2026-11-22T08:00:00+00:00", {"mart_occupancy_hourly", "mart_revenue_daily"}, []
    )
    failing = CheckResult(
        "mart_occupancy_hourly", "occupancy_rate_in_range", False, "ERROR", "3 hours"
    )
    warning = CheckResult("mart_revenue_daily", "compliance_in_range", False, "WARN", "1 day")
    bad = outcome("r2", "2026-11-22T09:00:00+00:00", {"mart_revenue_daily"}, [failing, warning])
    write_status(tmp_path, merge_status(merge_status({}, good), bad))

    status = PublicationStatus(tmp_path)
    (stale,) = status.stale(("mart_occupancy_hourly", "mart_revenue_daily"))
    assert stale.mart == "mart_occupancy_hourly"
    assert stale.published_at == "2026-11-22T08:00:00+00:00"
    text = stale_warning([stale])
    assert "mart_occupancy_hourly" in text and "2026-11-22 08:00 UTC" in text
    assert "occupancy_rate_in_range" in text and "09:00" in text

    checks = status.checks()
    assert list(checks["outcome"]) == ["FAILED", "FAILED"]
    assert set(checks["check"]) == {"occupancy_rate_in_range", "compliance_in_range"}


def test_a_later_good_run_clears_the_warning(tmp_path):
    failing = CheckResult("mart_occupancy_hourly", "occupancy_rate_in_range", False, "ERROR")
    status = PublicationStatus(tmp_path)
    write_status(
        tmp_path, merge_status({}, outcome("r1", "2026-11-22T08:00:00+00:00", set(), [failing]))
    )
    assert len(status.stale(("mart_occupancy_hourly",))) == 1
    passing = CheckResult("mart_occupancy_hourly", "occupancy_rate_in_range", True, "ERROR")
    both = {"mart_occupancy_hourly", "mart_revenue_daily"}
    after = merge_status(
        status.current(), outcome("r2", "2026-11-22T08:15:00+00:00", both, [passing])
    )
    write_status(tmp_path, after)
    assert status.stale(("mart_occupancy_hourly",)) == []
    assert stale_warning([]) == ""


def test_no_status_file_means_nothing_to_say(tmp_path):
    status = PublicationStatus(tmp_path)
    assert status.stale(("mart_occupancy_hourly",)) == []
    assert status.checks().empty


def test_a_facility_held_back_is_named_only_where_it_is_shown(tmp_path):
    failing = CheckResult(
        "mart_occupancy_hourly", "occupancy_rate_in_range", False, "ERROR", "2 hours"
    )
    both = {"mart_occupancy_hourly", "mart_revenue_daily"}
    run = RunOutcome(
        "r1", "refresh_marts", "SUCCESS", "2026-11-22T09:00:00+00:00", both, both, [failing],
        held={"mart_occupancy_hourly": ["FAC-002"]},
    )  # fmt: skip
    write_status(tmp_path, merge_status({}, run))
    status = PublicationStatus(tmp_path)
    (held,) = status.stale(("mart_occupancy_hourly", "mart_revenue_daily"))
    assert held.facilities == ("FAC-002",)
    text = stale_warning([held])
    assert "FAC-002" in text and "occupancy_rate_in_range" in text and "09:00" in text
    assert "other facilities' figures are current" in text
    assert status.stale(("mart_occupancy_hourly",), "FAC-002") == [held]
    assert status.stale(("mart_occupancy_hourly",), "FAC-001") == []  # not shown there
