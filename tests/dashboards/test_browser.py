"""The dashboards in a real browser (Debian's chromium) against a published simulated week.

Every page loads with no console error, no failed request and no request leaving the
machine; its charts and tables show data; the facility filter changes the numbers; a CSV
download holds exactly the filtered rows; hostile filter values do no harm.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.dashboards.conftest import open_page, query_marts, screenshot, wait_for_kpi

#: page -> (charts, tables) it must show with data (CSS names after pf-chart- / pf-table-)
EXPECTED = {
    "occupancy": (["trend", "heatmap", "forecast", "turnover", "dwell"], ["peaks"]),
    "revenue": (["by-method", "compliance"], ["daily", "targets"]),
    "devices": ([], ["health", "alerts"]),
    "data_quality": (["dead-letters"], ["latest", "quality"]),
    "reports": ([], ["report-sessions"]),
}

#: Bokeh data sources with at least one row (each chart has at least one).
FILLED_SOURCES_JS = """() => {
  let filled = 0;
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    if (m.constructor.__name__ === 'ColumnDataSource' && m.get_length() > 0) filled += 1;
  }
  return filled;
}"""

HOSTILE = [
    "FAC-001' OR '1'='1",
    "x'; DROP TABLE mart_revenue_daily; --",
    '"><img src=x onerror=alert(1)>',
    "1; COPY (SELECT 1) TO '/tmp/pwned.csv'",
]


@pytest.fixture(scope="module")
def week(marts_dir: Path) -> tuple[date, date]:
    """The default period the pages show: the last 7 local days with revenue."""
    (last,) = query_marts(marts_dir, "select max(local_date) from mart_revenue_daily")[0]
    return last - timedelta(days=6), last


def test_live_page_says_the_stream_is_offline_when_the_worker_is_down(page, watch, dashboard):
    open_page(page, dashboard, "page=live")
    page.locator(".pf-stream-offline").get_by_text("Stream offline").wait_for()
    assert page.locator(".pf-kpi-inside").count() == 0  # no stale numbers


@pytest.mark.parametrize("slug", list(EXPECTED))
def test_page_loads_with_its_charts_and_tables_filled(page, watch, dashboard, slug):
    open_page(page, dashboard, f"page={slug}")
    charts, tables = EXPECTED[slug]
    for name in charts:
        page.locator(f".pf-chart-{name} canvas").first.wait_for()
    for name in tables:
        page.locator(f".pf-table-{name} .tabulator-row").first.wait_for()
    assert page.locator(".pf-content .pf-empty").count() == 0
    if charts:
        page.wait_for_function(f"() => ({FILLED_SOURCES_JS})() >= {len(charts)}")
    assert page.locator(".pf-kpi .pf-value").count() >= 1 or slug == "reports"
    screenshot(page, slug)


def test_changing_the_facility_changes_the_numbers(page, watch, dashboard):
    open_page(page, dashboard, "page=revenue")
    everywhere = wait_for_kpi(page, "revenue")
    page.get_by_role("combobox").first.click()
    page.get_by_role("listbox").get_by_text("FAC-002", exact=True).click()
    one = wait_for_kpi(page, "revenue", other_than=everywhere)
    assert one != everywhere
    assert one.startswith("€")
    assert "facility=FAC-002" in page.url  # the URL follows the filters

    # the other pages follow the same filter
    page.get_by_role("button", name="Occupancy", exact=True).click()
    page.locator(".pf-kpi-occupancy-rate .pf-value").first.wait_for()
    assert "page=occupancy" in page.url
    assert "facility=FAC-002" in page.url


def test_csv_download_holds_exactly_the_filtered_rows(page, watch, dashboard, marts_dir, week):
    start, end = week[0] + timedelta(days=2), week[1] - timedelta(days=1)
    open_page(page, dashboard, f"page=reports&facility=FAC-001&start={start}&end={end}")
    button = page.locator(".pf-download-csv button, .pf-download-csv a").first
    button.wait_for()
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == f"parkflow_sessions_FAC-001_{start}_{end}.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = query_marts(
        marts_dir,
        "select session_id from fct_parking_sessions where facility_id = $f "
        "and entry_date_local between $s and $e",
        {"f": "FAC-001", "s": start, "e": end},
    )
    assert sorted(r["session_id"] for r in rows) == sorted(r[0] for r in expected)
    assert {r["facility_id"] for r in rows} == {"FAC-001"}
    assert all(str(start) <= r["entry_date_local"][:10] <= str(end) for r in rows)
    assert "plate" not in rows[0]  # personal data stays out of reports


def _fingerprints(marts_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in marts_dir.glob("*")}


def test_hostile_filter_values_do_no_harm(page, watch, dashboard, marts_dir):
    before = _fingerprints(marts_dir)
    names = ["facility", "start", "end", "severity", "state", "report"]
    for turn in range(2):  # every value through every filter would be 24 loads: rotate instead
        values = [quote(HOSTILE[(i + turn) % len(HOSTILE)]) for i in range(len(names))]
        query = "&".join(f"{name}={value}" for name, value in zip(names, values, strict=True))
        for slug in ("revenue", "devices", "reports"):
            open_page(page, dashboard, f"page={slug}&{query}")
            # an unknown facility matches no rows: a friendly empty state, not an error
            page.locator(".pf-content .pf-empty").first.wait_for()
    open_page(page, dashboard, f"page={quote(HOSTILE[1])}")  # unknown page: the Live page
    page.locator(".pf-stream-offline, .pf-stream-online").first.wait_for()
    assert _fingerprints(marts_dir) == before
    assert not Path("/tmp/pwned.csv").exists()
    # and the app still serves real numbers
    open_page(page, dashboard, "page=revenue")
    assert wait_for_kpi(page, "revenue").startswith("€")
