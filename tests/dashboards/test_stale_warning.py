"""A page whose mart was held back by a failing check warns that it shows the last good data."""

from __future__ import annotations

from pathlib import Path

from orchestration.publication import CheckResult, RunOutcome, merge_status, write_status
from tests.dashboards.conftest import open_page


def test_a_held_back_mart_shows_a_warning_and_the_last_good_numbers(
    page, watch, dashboard, marts_dir: Path
):
    status = marts_dir / "_status.json"
    failing = CheckResult("mart_revenue_daily", "no_negative_revenue", False, "ERROR", "2 rows")
    held_back = RunOutcome(
        "run-1", "refresh_marts", "FAILURE", "2026-11-22T09:00:00+00:00",
        planned={"mart_revenue_daily"}, published=set(), checks=[failing],
    )  # fmt: skip
    write_status(marts_dir, merge_status({}, held_back))
    try:
        open_page(page, dashboard, "page=revenue")
        warning = page.locator(".pf-stale")
        warning.get_by_text("Last good data shown").wait_for()
        # the text is inside the component's shadow DOM: locators reach it, inner_text does not
        warning.get_by_text("mart_revenue_daily").wait_for()
        warning.get_by_text("no_negative_revenue", exact=False).wait_for()
        assert page.locator(".pf-content .pf-kpi .pf-value").count() >= 1  # numbers still there
        open_page(page, dashboard, "page=devices")  # its marts are current: no warning
        assert page.locator(".pf-stale").filter(has_text="Last good data").count() == 0
    finally:
        status.unlink(missing_ok=True)
