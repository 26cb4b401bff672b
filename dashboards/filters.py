"""The global filters every page shares: facility and date range (local dates).

They live in one `Filters` object per browser session; the pages depend on its parameters.
The URL query (`?page=revenue&facility=FAC-001&start=2026-11-15&end=2026-11-21`) sets them on
load and follows them, so a view can be bookmarked or sent to a colleague. Values from the
URL are untrusted: unknown facilities are kept (they just match no rows), dates that do not
parse are ignored, and every value reaches SQL only as a bound parameter.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import panel_material_ui as pmui
import param

from dashboards.data import Marts

ALL = ""  # the facility filter's "all facilities"
DEFAULT_DAYS = 7
MAX_QUERY_VALUE = 200  # longer URL values are cut: nothing legitimate is that long

#: Per mart that gives the filters their choices: its facilities, and its first and last date.
CHOICE_SQL = {
    "mart_occupancy_daily": (
        "select distinct facility_id from mart_occupancy_daily",
        "select min(local_date) as first, max(local_date) as last from mart_occupancy_daily",
    ),
    "mart_revenue_daily": (
        "select distinct facility_id from mart_revenue_daily",
        "select min(local_date) as first, max(local_date) as last from mart_revenue_daily",
    ),
}


class Filters(param.Parameterized):
    """Facility (empty: all) and an inclusive range of local dates."""

    facility = param.String(default=ALL, doc="Facility id; empty for all facilities.")
    start = param.CalendarDate(default=None, allow_None=True, doc="First local date.")
    end = param.CalendarDate(default=None, allow_None=True, doc="Last local date.")

    def params(self) -> dict[str, object]:
        """The SQL parameters `$facility` (None: all), `$start` and `$end`."""
        return {"facility": self.facility or None, "start": self.start, "end": self.end}


def facility_choices(marts: Marts) -> list[str]:
    """Facilities that have occupancy or revenue in the published marts."""
    found: set[str] = set()
    for facilities_sql, _ in CHOICE_SQL.values():
        frame = marts.frame(facilities_sql)
        if not frame.empty:
            found |= set(frame["facility_id"].dropna())
    return sorted(found)


def date_bounds(marts: Marts) -> tuple[date, date] | None:
    """First and last local date with data, or None when nothing is published."""
    firsts, lasts = [], []
    for _, dates_sql in CHOICE_SQL.values():
        frame = marts.frame(dates_sql)
        if not frame.empty and frame["last"].notna().all():
            firsts.append(_as_date(frame["first"].iloc[0]))
            lasts.append(_as_date(frame["last"].iloc[0]))
    return (min(firsts), max(lasts)) if lasts else None


def _as_date(value: object) -> date:
    """A date from what DuckDB and pandas give back (date, Timestamp or datetime)."""
    if isinstance(value, datetime):
        return value.date()
    return value  # type: ignore[return-value]


def parse_date(text: str | None) -> date | None:
    """An ISO date from the URL, or None when it is not one."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def clean(text: str | None) -> str:
    """A URL value cut to a sane length (it is data, never SQL)."""
    return (text or "")[:MAX_QUERY_VALUE]


def initial_filters(marts: Marts, query: dict[str, str]) -> Filters:
    """Filters from the URL query, defaulting to all facilities and the last week of data."""
    bounds = date_bounds(marts)
    last = bounds[1] if bounds else None
    start = parse_date(query.get("start"))
    end = parse_date(query.get("end"))
    if end is None:
        end = last
    if start is None and end is not None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
        if bounds:
            start = max(start, bounds[0])
    if start and end and start > end:
        start, end = end, start
    return Filters(facility=clean(query.get("facility")), start=start, end=end)


def facility_widget(filters: Filters, choices: list[str]) -> pmui.Select:
    """The facility drop-down, two-way linked to `filters.facility`."""
    options = {"All facilities": ALL} | {f: f for f in choices}
    if filters.facility not in options.values():
        options[filters.facility] = filters.facility  # e.g. from a bookmark: shows as chosen
    widget = pmui.Select(
        label="Facility", options=options, value=filters.facility, sizing_mode="stretch_width"
    )
    widget.link(filters, value="facility", bidirectional=True)
    return widget


def dates_widget(filters: Filters, bounds: tuple[date, date] | None) -> pmui.DateRangePicker:
    """The date-range picker, linked to `filters.start` / `filters.end`."""
    widget = pmui.DateRangePicker(
        label="Dates (local)",
        value=(filters.start, filters.end) if filters.start and filters.end else None,
        start=bounds[0] if bounds else None,
        end=bounds[1] + timedelta(days=7) if bounds else None,
        sizing_mode="stretch_width",
    )

    def push(event: param.parameterized.Event) -> None:
        if event.new and all(event.new):
            first, last = sorted(_as_date(v) for v in event.new)
            filters.param.update(start=first, end=last)

    widget.param.watch(push, "value")
    return widget
