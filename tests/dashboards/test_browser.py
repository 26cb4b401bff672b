"""The dashboards in a real browser (Debian's chromium) against a published simulated week.

Every page loads with no console error, no failed request and no request leaving the
machine; its charts and tables show data; the facility filter changes the numbers; the CSV and
Excel downloads hold exactly the filtered rows; hostile filter values do no harm.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest

from dashboards.format import symbol
from tests.dashboards.conftest import open_page, query_marts, screenshot, wait_for_kpi
from tests.dashboards.expected import EXPECTED, FILLED_SOURCES_JS, page_query

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
    open_page(page, dashboard, page_query(slug))
    charts, tables = EXPECTED[slug]
    for name in charts:
        page.locator(f".pf-chart-{name} canvas").first.wait_for()
    for name in tables:
        page.locator(f".pf-table-{name} .tabulator-row").first.wait_for()
    assert page.locator(".pf-content .pf-empty").count() == 0
    if charts:
        page.wait_for_function(f"() => ({FILLED_SOURCES_JS})() >= {len(charts)}")
    assert page.locator(".pf-kpi .pf-value").count() >= 1 or slug == "reports"
    if "/" not in slug:  # the README shows each page as it opens
        screenshot(page, slug)


def test_a_tab_shows_its_view_and_the_url_follows(page, watch, dashboard):
    open_page(page, dashboard, "page=occupancy&facility=FAC-002")
    page.locator(".pf-chart-trend canvas").first.wait_for()
    assert page.locator(".pf-chart-heatmap").count() == 0  # only the view shown is drawn
    page.get_by_role("tab", name="Hour of week").click()
    page.locator(".pf-chart-heatmap canvas").first.wait_for()
    page.locator(".pf-table-peaks .tabulator-row").first.wait_for()
    assert page.locator(".pf-chart-trend").count() == 0
    assert "view=week" in page.url
    assert "facility=FAC-002" in page.url
    # the view is kept per page: back on Occupancy after Revenue, the same tab is open
    page.get_by_role("button", name="Revenue", exact=True).click()
    page.locator(".pf-chart-by-method canvas").first.wait_for()
    page.get_by_role("button", name="Occupancy", exact=True).click()
    page.locator(".pf-chart-heatmap canvas").first.wait_for()
    assert page.get_by_role("tab", name="Hour of week").get_attribute("aria-selected") == "true"


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


#: (lines drawn, rows behind them) of a chart: its visible glyphs with data.
DRAWN_LINES_JS = """(name) => {
  const all = function* (view) { yield view; for (const c of view.children()) yield* all(c); };
  const drawn = [];
  for (const view of Bokeh.index.all_views()) {
    if (!(view.model.css_classes ?? []).includes('pf-chart-' + name) || !view.el?.isConnected) {
      continue;
    }
    for (const v of all(view)) {
      const source = v.model.data_source;
      if (source && v.model.visible && source.get_length() > 0) drawn.push(source.get_length());
    }
  }
  return [drawn.length, drawn.reduce((a, b) => a + b, 0)];
}"""


def test_charts_follow_the_facility(page, watch, dashboard, marts_dir, week):
    start, end = week
    facilities = query_marts(
        marts_dir,
        "select facility_id, count(*) from mart_occupancy_hourly where subject_kind = 'facility' "
        "and local_date between $s and $e group by all order by facility_id",
        {"s": start, "e": end},
    )
    assert len(facilities) > 1
    open_page(page, dashboard, "page=occupancy")
    # one line per facility over the week, then only the chosen facility's line
    everywhere = [len(facilities), sum(n for _, n in facilities)]
    page.wait_for_function(f"() => ({DRAWN_LINES_JS})('trend')[0] === {everywhere[0]}")
    assert page.evaluate(DRAWN_LINES_JS, "trend") == everywhere
    facility, hours = facilities[-1]
    page.get_by_role("combobox").first.click()
    page.get_by_role("listbox").get_by_text(facility, exact=True).click()
    page.wait_for_function(f"() => ({DRAWN_LINES_JS})('trend')[0] === 1")
    assert page.evaluate(DRAWN_LINES_JS, "trend") == [1, hours]
    # and back: every facility again
    page.get_by_role("combobox").first.click()
    page.get_by_role("listbox").get_by_text("All facilities", exact=True).click()
    page.wait_for_function(f"() => ({DRAWN_LINES_JS})('trend')[0] === {everywhere[0]}")
    assert page.evaluate(DRAWN_LINES_JS, "trend") == everywhere


def download(page, kind: str) -> tuple[str, Path]:
    """Click the Reports page's `.pf-download-<kind>` button: the file's name and where it is."""
    button = page.locator(f".pf-download-{kind} button, .pf-download-{kind} a").first
    button.wait_for()
    with page.expect_download() as started:
        button.click()
    return started.value.suggested_filename, Path(started.value.path())


def filtered_sessions(marts_dir: Path, facility: str, start: date, end: date) -> list[tuple]:
    """Session ids and currencies of the facility's sessions that entered in the period."""
    return query_marts(
        marts_dir,
        "select session_id, currency from fct_parking_sessions where facility_id = $f "
        "and entry_date_local between $s and $e",
        {"f": facility, "s": start, "e": end},
    )


def test_csv_download_holds_exactly_the_filtered_rows(page, watch, dashboard, marts_dir, week):
    start, end = week[0] + timedelta(days=2), week[1] - timedelta(days=1)
    open_page(page, dashboard, f"page=reports&facility=FAC-001&start={start}&end={end}")
    name, path = download(page, "csv")
    assert name == f"parkflow_sessions_FAC-001_{start}_{end}.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    expected = filtered_sessions(marts_dir, "FAC-001", start, end)
    assert sorted(r["session_id"] for r in rows) == sorted(r[0] for r in expected)
    assert {r["facility_id"] for r in rows} == {"FAC-001"}
    assert all(str(start) <= r["entry_date_local"][:10] <= str(end) for r in rows)
    assert "plate" not in rows[0]  # personal data stays out of reports


def same_value(text: str, cell: object) -> bool:
    """Whether a CSV field and the Excel cell read back from the same report hold one value."""
    if cell is None:
        return text == ""
    if isinstance(cell, bool):
        return text == str(cell)
    if isinstance(cell, datetime):  # a date or a time: Excel keeps them to the millisecond
        return abs(cell - datetime.fromisoformat(text)) < timedelta(milliseconds=1)
    if isinstance(cell, int | float):
        return text != "" and float(text) == pytest.approx(cell, abs=1e-9)
    return text == cell


def test_excel_download_holds_the_same_rows_as_the_csv(page, watch, dashboard, marts_dir, week):
    start, end = week[0] + timedelta(days=1), week[1] - timedelta(days=2)
    open_page(page, dashboard, f"page=reports&facility=FAC-001&start={start}&end={end}")
    _, csv_path = download(page, "csv")
    name, xlsx_path = download(page, "xlsx")
    assert name == f"parkflow_sessions_FAC-001_{start}_{end}.xlsx"
    lines = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    columns, csv_rows = lines[0], lines[1:]

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_path.read_bytes())).active
    assert sheet.title == "Parking sessions"
    header, *cells = list(sheet.iter_rows())
    assert all(c.font.b for c in header)  # a bold header row, frozen under filter buttons
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{header[-1].column_letter}{len(cells) + 1}"
    titles = [c.value for c in header]
    assert len(titles) == len(columns) == len(set(titles))
    assert "session_id" not in titles  # managers read titles, not column names

    # exactly the filtered rows, in the order of the CSV, value for value
    assert cells, "the period has sessions"
    by_name = dict(zip(columns, zip(*cells, strict=True), strict=True))  # column -> its cells
    expected = filtered_sessions(marts_dir, "FAC-001", start, end)
    assert sorted(c.value for c in by_name["session_id"]) == sorted(r[0] for r in expected)
    assert len(cells) == len(csv_rows)
    for csv_row, row in zip(csv_rows, cells, strict=True):
        for column, text, cell in zip(columns, csv_row, row, strict=True):
            assert same_value(text, cell.value), (column, text, cell.value)

    # formats: money in its row's currency, days and times as dates, columns wide enough
    amounts = zip(by_name["amount_due"], by_name["currency"], strict=True)
    due = [(amount, currency.value) for amount, currency in amounts if amount.value is not None]
    assert due
    assert all(c and symbol(c) in amount.number_format for amount, c in due)
    assert all(c.is_date for c in by_name["entry_ts_local"] + by_name["entry_date_local"])
    for column in ("session_id", "entry_ts_local"):
        letter = by_name[column][0].column_letter
        widest = max(len(str(c.value)) for c in by_name[column])
        assert sheet.column_dimensions[letter].width >= min(widest, 16)


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
