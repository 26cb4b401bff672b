"""The pages without a browser: what they read, empty states, filters from the URL, formats."""

from __future__ import annotations

import csv
import inspect
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import panel as pn
import pytest

from dashboards import format as fmt
from dashboards.data import MART_NAME, Marts
from dashboards.filters import initial_filters, parse_date
from dashboards.pages import PAGE_TYPES
from dashboards.pages.live import LivePage, alerts_frame
from dashboards.pages.occupancy import dwell_label
from dashboards.pages.reports import ReportsPage, safe_file_part, to_csv
from dashboards.shell import Shell
from dashboards.worker import Backlog, LiveSnapshot, fetch_live
from tests.dashboards.expected import EXPECTED


def texts(viewable: pn.viewable.Viewable) -> str:
    """Every text shown in a layout (markdown, HTML, alerts), joined."""
    found = []
    for obj in viewable.select(lambda o: isinstance(getattr(o, "object", None), str)):
        found.append(obj.object)
    return "\n".join(found)


def rendered(page) -> pn.viewable.Viewable:
    """The page's content for its current filters."""
    return page.render()


def test_pages_are_the_ones_dagster_knows_and_read_only_their_marts():
    from orchestration.defs.dashboards import PAGES

    assert list(PAGE_TYPES) == list(PAGES)
    for slug, page in PAGE_TYPES.items():
        declared = set(PAGES[slug][1])
        assert set(page.marts) == declared, slug
        source = inspect.getsource(inspect.getmodule(page))
        assert set(MART_NAME.findall(source)) <= declared, slug


@pytest.mark.parametrize("slug", list(PAGE_TYPES))
def test_every_page_has_a_friendly_empty_state_when_nothing_is_published(slug, tmp_path):
    shell = Shell(Marts(tmp_path), {})
    page = shell.page(slug)
    if slug == "live":
        page.snapshot = LiveSnapshot(fetched_at=datetime.now(UTC), error="down")
    content = texts(rendered(page))
    assert content  # something readable, no exception
    assert "Traceback" not in content


@pytest.mark.parametrize("slug", [s for s in PAGE_TYPES if s != "live"])
def test_every_page_renders_the_published_week(slug, marts_dir):
    shell = Shell(Marts(marts_dir), {})
    page = shell.page(slug)
    everywhere = rendered(page)
    assert not everywhere.select(lambda o: "pf-empty" in getattr(o, "css_classes", [])), slug
    shell.filters.facility = "FAC-001"
    assert rendered(page) is not None


def charts_of_views() -> dict[tuple[str, str], set[str]]:
    """(page, view) -> the charts it draws, for every view of a page with views."""
    found = {}
    for key, (charts, _) in EXPECTED.items():
        slug, _, view = key.partition("/")
        views = PAGE_TYPES[slug].views
        if views:
            found[(slug, view or next(iter(views)))] = set(charts)  # no view: the default
    return found


CHARTS_OF_VIEW = charts_of_views()


def charts_in(content: pn.viewable.Viewable) -> set[str]:
    """The names of the charts (`pf-chart-<name>`) in a layout."""
    classes = {c for o in content.select() for c in getattr(o, "css_classes", None) or []}
    return {c.removeprefix("pf-chart-") for c in classes if c.startswith("pf-chart-")}


def test_the_views_are_the_ones_listed_here():
    views = {(slug, view) for slug, page in PAGE_TYPES.items() for view in page.views}
    assert views == set(CHARTS_OF_VIEW)


@pytest.mark.parametrize(("slug", "view"), list(CHARTS_OF_VIEW))
def test_every_view_renders_the_published_week_and_only_its_charts(slug, view, marts_dir):
    page = Shell(Marts(marts_dir), {"page": slug, "view": view}).page(slug)
    assert page.view == view
    content = rendered(page)
    assert not content.select(lambda o: "pf-empty" in getattr(o, "css_classes", [])), view
    assert page.view_tabs in content.objects
    assert charts_in(content) == CHARTS_OF_VIEW[(slug, view)]


def test_views_come_from_the_url_or_the_tabs_and_unknown_ones_fall_back(marts_dir):
    marts = Marts(marts_dir)
    assert Shell(marts, {}).page("occupancy").view == "trend"  # the first is the default
    assert Shell(marts, {"view": "'; drop table x; --"}).page("revenue").view == "method"
    page = Shell(marts, {"page": "revenue", "view": "targets"}).page("revenue")
    assert page.view_tabs.active == 2
    page.view_tabs.active = 1
    assert page.view == "compliance"
    assert Shell(marts, {}).page("devices").view_tabs is None  # a page without views


def test_filters_come_from_the_url_and_bad_values_fall_back(marts_dir):
    marts = Marts(marts_dir)
    default = initial_filters(marts, {})
    assert default.facility == ""
    assert (default.end - default.start).days == 6
    chosen = initial_filters(
        marts, {"facility": "FAC-002", "start": "2026-11-17", "end": "2026-11-18"}
    )
    assert (chosen.facility, chosen.start, chosen.end) == (
        "FAC-002",
        date(2026, 11, 17),
        date(2026, 11, 18),
    )
    hostile = initial_filters(marts, {"start": "'; drop table x; --", "end": "2026-13-45"})
    assert (hostile.start, hostile.end) == (default.start, default.end)
    swapped = initial_filters(marts, {"start": "2026-11-18", "end": "2026-11-17"})
    assert swapped.start < swapped.end
    assert len(initial_filters(marts, {"facility": "x" * 10_000}).facility) <= 200


def test_the_date_picker_and_the_facility_drop_down_set_the_shared_filters(marts_dir):
    shell = Shell(Marts(marts_dir), {})
    shell.dates.value = (date(2026, 11, 17), date(2026, 11, 18))
    assert (shell.filters.start, shell.filters.end) == (date(2026, 11, 17), date(2026, 11, 18))
    shell.facility.value = "FAC-003"
    assert shell.filters.facility == "FAC-003"
    assert shell.page("revenue").filters is shell.page("occupancy").filters


def test_parse_date():
    assert parse_date("2026-11-17") == date(2026, 11, 17)
    assert parse_date("2026-11-17T10:00") == date(2026, 11, 17)
    assert parse_date("yesterday") is None
    assert parse_date(None) is None


def test_unknown_page_falls_back_to_live(tmp_path):
    assert Shell(Marts(tmp_path), {"page": "<script>"}).current == "live"


def test_report_file_names_are_safe(marts_dir):
    assert safe_file_part("FAC-001") == "FAC-001"
    assert safe_file_part("../../etc/passwd") == "etc-passwd"
    assert safe_file_part("'; drop --") == "drop"
    shell = Shell(Marts(marts_dir), {"facility": "a/b"})
    page = shell.page("reports")
    assert isinstance(page, ReportsPage)
    assert "/" not in page.file_name()


def test_live_page_offline_and_online():
    page = LivePage(filters=initial_filters(Marts(Path("/nonexistent")), {}), store=None)
    page.snapshot = LiveSnapshot(fetched_at=datetime.now(UTC), error="ConnectionRefusedError")
    offline = rendered(page)
    assert "does not answer" in texts(offline)
    page.snapshot = LiveSnapshot(
        fetched_at=datetime.now(UTC),
        occupancy=[
            {
                "facility_id": "FAC-001",
                "zone_id": None,
                "occupied": 120,
                "capacity": 400,
                "occupancy_rate": 0.3,
            },
            {
                "facility_id": "FAC-002",
                "zone_id": "Z-01",
                "occupied": 10,
                "capacity": 40,
                "occupancy_rate": 0.25,
            },
        ],
        alerts=[
            {
                "opened_at": "2026-11-16T06:00:00+00:00",
                "facility_id": "FAC-001",
                "subject_id": "FAC-001-EV-1",
                "alert_type": "HIGH_POWER",
                "severity": "CRITICAL",
                "detail": "power 2164 W",
            }
        ],
    )
    online = texts(rendered(page))
    assert "Vehicles inside" in online
    assert ">130<" in online and "of 440 spaces" in online  # an on-street facility: its zones


def test_live_page_says_the_worker_is_catching_up_and_shows_no_half_counted_figures():
    page = LivePage(filters=initial_filters(Marts(Path("/nonexistent")), {}), store=None)
    page.snapshot = LiveSnapshot(
        fetched_at=datetime.now(UTC),
        occupancy=[{"facility_id": "FAC-001", "zone_id": None, "occupied": 1005,
                    "capacity": 400, "occupancy_rate": 2.51, "flagged": True}],
        event_time=datetime(2026, 11, 16, 6, tzinfo=UTC),
        backlog=Backlog(payloads=84_210, batches=37, catching_up=True),
    )  # fmt: skip
    shown = texts(rendered(page))
    assert "working through a backlog" in shown and "84,210 vendor payloads" in shown
    assert "37 event batches" in shown and "2026-11-16" in shown
    assert "1,005" not in shown and "Vehicles inside" not in shown


def test_live_alerts_are_aged_in_event_time_and_flagged_counts_are_marked():
    event_time = datetime(2026, 11, 16, 7, 30, tzinfo=UTC)  # a feed 3 weeks behind the clock
    snapshot = LiveSnapshot(
        fetched_at=datetime.now(UTC),
        occupancy=[{"facility_id": "FAC-002", "zone_id": None, "occupied": 401,
                    "capacity": 400, "occupancy_rate": 1.0025, "flagged": True}],
        alerts=[{"opened_at": "2026-11-16T06:00:00+00:00", "facility_id": "FAC-002",
                 "subject_id": "FAC-002", "alert_type": "FULL", "severity": "CRITICAL",
                 "detail": "FAC-002 at 401/400 (100%)"}],
        event_time=event_time,
    )  # fmt: skip
    assert alerts_frame(snapshot, None, event_time)["open_minutes"].tolist() == [90]
    page = LivePage(filters=initial_filters(Marts(Path("/nonexistent")), {}), store=None)
    page.snapshot = snapshot
    shown = texts(rendered(page))
    assert "Flagged: FAC-002 at 401 of 400" in shown
    assert "Newest event: 2026-11-16" in shown and "days ago" in shown


def test_the_worker_being_down_is_a_state_not_an_exception():
    snapshot = fetch_live("http://127.0.0.1:9")  # discard port: nothing listens
    assert not snapshot.online
    assert snapshot.error


def test_manager_formats():
    assert fmt.money(1234.5, "EUR") == "€1,234.50"
    assert fmt.money(-3, "GBP") == "-£3.00"
    assert fmt.money(None) == fmt.MISSING
    assert fmt.money(float("nan")) == fmt.MISSING
    assert fmt.money(5, "SEK") == "SEK 5.00"
    assert fmt.moneys({"EUR": 10, "GBP": 2}) == "€10.00 · £2.00"
    assert fmt.percent(0.8751) == "87.5%"
    assert fmt.percent(pd.NA) == fmt.MISSING
    assert fmt.number(12345.6) == "12,346"
    assert fmt.minutes(45) == "45 min"
    assert fmt.minutes(185) == "3 h 05 min"
    assert fmt.only_currency(["EUR", "EUR", None]) == "EUR"
    assert fmt.only_currency(["EUR", "GBP"]) is None


def test_dwell_bins_read_well():
    assert [dwell_label(b) for b in (0, 1, 2, 3, 15, 16)] == [
        "0-30 min",
        "30-60 min",
        "1-1.5 h",
        "1.5-2 h",
        "7.5-8 h",
        "8 h+",
    ]


def test_csv_cells_never_run_as_formulas():
    frame = pd.DataFrame(
        {
            "device_id": ['=HYPERLINK("http://x")', "+1", "@SUM(A1)", "-2+3", "GATE-1", None],
            "amount": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            "day": [date(2026, 11, 17)] * 6,
        }
    )
    rows = list(csv.reader(io.StringIO(to_csv(frame).getvalue().decode("utf-8-sig"))))[1:]
    assert [row[0] for row in rows] == [
        "'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)", "'-2+3", "GATE-1", ""
    ]  # fmt: skip
    assert [row[1] for row in rows] == ["-5.0", "1.0", "2.0", "3.0", "4.0", "5.0"]
    assert {row[2] for row in rows} == {"2026-11-17"}


def test_data_quality_lists_facilities_missing_from_the_estate(marts_dir, tmp_path):
    import shutil

    import duckdb

    marts = tmp_path / "marts"
    shutil.copytree(marts_dir, marts)
    path = marts / "mart_data_quality_daily.parquet"
    duckdb.connect().execute(
        f"""copy (
            select * replace (
                case when row_number() over (order by date desc, source) = 1 then 17
                     else unregistered_events end as unregistered_events,
                case when row_number() over (order by date desc, source) = 1 then ['DEPOT-9']
                     else unregistered_facilities end as unregistered_facilities)
            from read_parquet('{marts_dir / path.name}')
        ) to '{path}' (format parquet)"""
    )
    page = Shell(Marts(marts), {}).page("data_quality")
    content = texts(rendered(page))
    assert "Facilities not in the estate" in content
    assert "PARKFLOW_ESTATE" in content
    table = next(
        o.value
        for o in rendered(page).select(
            lambda o: isinstance(getattr(o, "value", None), pd.DataFrame)
        )
        if "facility_id" in o.value.columns
    )
    assert table["facility_id"].tolist() == ["DEPOT-9"]
    published = Shell(Marts(marts_dir), {}).page("data_quality")
    assert "Facilities not in the estate" not in texts(rendered(published))


def test_the_delivery_limits_shown_are_the_dbt_vars():
    import yaml

    from dashboards.pages import data_quality

    project = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"
    variables = yaml.safe_load(project.read_text())["vars"]
    assert data_quality.LATE_AFTER_MINUTES == variables["late_delivery_minutes"]
    assert data_quality.BACKFILL_AFTER_HOURS == variables["backfill_after_hours"]


def test_data_quality_shows_backfilled_events_apart_from_late_ones(marts_dir, tmp_path):
    import shutil

    import duckdb

    marts = tmp_path / "marts"
    shutil.copytree(marts_dir, marts)
    path = marts / "mart_data_quality_daily.parquet"
    duckdb.connect().execute(
        f"""copy (
            select * replace (
                case when row_number() over (order by date desc, source) = 1 then 4321
                     else backfilled_events end as backfilled_events)
            from read_parquet('{marts_dir / path.name}')
        ) to '{path}' (format parquet)"""
    )
    content = texts(rendered(Shell(Marts(marts), {}).page("data_quality")))
    # the simulated week has no backfill: the one vendor-day set above is all of it
    assert re.search(r'pf-kpi-backfilled">.*?pf-value">4,321<', content)
    assert "history loaded since, not late" in content
    assert re.search(r'pf-kpi-late">.*?pf-value">[0-9,]+<', content)


def test_data_quality_names_a_failing_check_its_facility_and_rows(marts_dir, tmp_path):
    import shutil

    from orchestration.publication import CheckResult, RunOutcome, merge_status, write_status

    marts = tmp_path / "marts"
    shutil.copytree(marts_dir, marts)
    rows = (
        "| facility_id | hour_start_local | peak_occupied | capacity |\n|---|---|---|---|\n"
        "| FAC-002 | 2026-11-18 09:00 | 431 | 400 |\n| <b>x</b> | - | - | - |"
    )
    failing = CheckResult(
        "mart_occupancy_hourly", "occupancy_rate_in_range", False, "WARN",
        "Holds back FAC-002: 1 hour(s) with a rate outside 0..1", failing_rows=rows,
    )  # fmt: skip
    passing = CheckResult("mart_revenue_daily", "has_rows", True, "ERROR", "1,204 rows")
    both = {"mart_occupancy_hourly", "mart_revenue_daily"}
    run = RunOutcome(
        "r1", "refresh_marts", "SUCCESS", "2026-11-22T09:00:00+00:00", both, both,
        [failing, passing], held={"mart_occupancy_hourly": ["FAC-002"]},
    )  # fmt: skip
    write_status(marts, merge_status({}, run))

    content = texts(rendered(Shell(Marts(marts), {}).page("data_quality")))
    assert "mart_occupancy_hourly · occupancy_rate_in_range (WARN)" in content
    assert (
        "Holds back FAC-002" in content and "| FAC-002 | 2026-11-18 09:00 | 431 | 400 |" in content
    )
    assert "<b>" not in content and "&lt;b&gt;" in content  # data, not markup
    occupancy = Shell(Marts(marts), {}).page("occupancy")
    warning = occupancy.stale_warning()
    assert "FAC-002" in warning and "1 hour(s) with a rate outside 0..1" in warning
    assert "Data quality page" in warning
    clean = texts(rendered(Shell(Marts(marts_dir), {}).page("data_quality")))
    assert "No check has run yet" in clean
