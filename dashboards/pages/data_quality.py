"""Data quality: dead letters per vendor per day, the latest day's outcome per vendor, and
the latest outcome of every Dagster check, with the rows a failing one found."""

from __future__ import annotations

import html

import hvplot.pandas  # noqa: F401  (registers .hvplot)
import pandas as pd
import panel as pn

from dashboards import format as fmt
from dashboards import ui
from dashboards.pages.base import Page
from dashboards.publication import PublicationStatus

#: The same limit as the Dagster check `dead_letter_share` (a WARN above it).
DEAD_LETTER_LIMIT = 0.10
#: The dbt vars `late_delivery_minutes` and `backfill_after_hours` (dbt_project.yml): an event
#: received later than the first after its event time is late, later than the second backfilled.
LATE_AFTER_MINUTES = 5
BACKFILL_AFTER_HOURS = 24

DAILY_SQL = """
select date, source, rows_landed, events, duplicate_rows, flagged_events, late_events,
       backfilled_events, invalid_payments, unregistered_events, dead_letters, dead_letter_share,
       anomalies, unmatched_exits, unmatched_payments, abandoned_sessions
from mart_data_quality_daily
where date between $start and $end
order by date, source
"""

LATEST_SQL = """
select date, source, rows_landed, dead_letters, dead_letter_share, duplicate_rows, anomalies
from mart_data_quality_daily
where date = (select max(date) from mart_data_quality_daily where date <= $end)
order by source
"""

UNREGISTERED_SQL = """
select facility_id,
       string_agg(distinct source, ', ' order by source) as vendors,
       count(distinct date) as days,
       min(date) as first_day,
       max(date) as last_day
from (
    select date, source, unnest(unregistered_facilities) as facility_id
    from mart_data_quality_daily
    where date between $start and $end and unregistered_events > 0
)
group by facility_id
order by facility_id
"""


class DataQualityPage(Page):
    """What the pipeline rejected or flagged, per vendor and day."""

    slug = "data_quality"
    title = "Data quality"
    icon = "fact_check"
    marts = ("mart_data_quality_daily",)

    def render(self, *_: object) -> pn.viewable.Viewable:
        """KPIs, the latest outcomes, dead letters per day, and the full table."""
        params = self.params()
        daily = self.store.frame(DAILY_SQL, params)
        if daily.empty:
            return ui.empty(f"No data-quality figures for {self.scope()}.")
        parts = [
            ui.note(
                "Per vendor and UTC day: a rejected payload has no facility, so the facility "
                "filter does not apply here."
            ),
            self._summary(daily),
            *self._unregistered(params, daily),
            ui.heading(
                "Latest day per vendor",
                f"OK while under {DEAD_LETTER_LIMIT:.0%} of a vendor's payloads are rejected.",
            ),
            self._latest(params),
            ui.heading("Dead letters per vendor", "Payloads a vendor plugin could not read."),
            self._dead_letters(daily),
            ui.heading("Per vendor and day"),
            self._table(daily),
            ui.heading(
                "Checks",
                "The latest outcome of each data-quality check Dagster runs before it publishes "
                "the marts; a failing one with the rows it found.",
            ),
            *self._checks(),
        ]
        return pn.Column(*parts, sizing_mode="stretch_width")

    def _checks(self) -> list[pn.viewable.Viewable]:
        checks = PublicationStatus(self.store.folder).checks()
        if checks.empty:
            # a note, not an empty state: the page has data, only Dagster has not run yet
            return [ui.note("No check has run yet: Dagster records them after its first run.")]
        failed = checks[checks["outcome"] == "FAILED"]
        parts: list[pn.viewable.Viewable] = []
        for row in failed.itertuples():
            parts.append(
                ui.note(
                    f"{row.asset} · {row.check} ({row.severity}): {row.description}",
                    "error" if row.severity == "ERROR" else "warning",
                    classes=["pf-check-failed"],
                )
            )
            if row.failing_rows:
                # the check's markdown table (plates masked by the check); cells hold data
                # values, so no HTML in them may reach the page as markup
                parts.append(
                    pn.pane.Markdown(
                        html.escape(row.failing_rows, quote=False),
                        css_classes=["pf-check-rows"],
                        sizing_mode="stretch_width",
                        margin=(0, 16),
                    )
                )
        if failed.empty:
            parts.append(ui.note(f"All {len(checks)} checks passed.", "success"))
        table = checks.drop(columns=["failing_rows"]).assign(
            at=checks["at"].dt.strftime("%Y-%m-%d %H:%M UTC")
        )
        parts.append(
            ui.table(
                table,
                "checks",
                titles={
                    "asset": "Model",
                    "check": "Check",
                    "outcome": "Outcome",
                    "severity": "Severity",
                    "description": "Result",
                    "at": "Run finished",
                },
            )
        )
        return parts

    def _summary(self, daily: pd.DataFrame) -> pn.viewable.Viewable:
        payloads = daily["events"].sum() + daily["dead_letters"].sum()
        return ui.kpis(
            ui.kpi("Events", fmt.number(daily["events"].sum()), "distinct, landed"),
            ui.kpi(
                "Dead letters",
                fmt.number(daily["dead_letters"].sum()),
                f"{fmt.percent(daily['dead_letters'].sum() / payloads if payloads else None, 2)}"
                " of payloads",
                slug="dead-letters",
            ),
            ui.kpi("Duplicates", fmt.number(daily["duplicate_rows"].sum()), "landed twice"),
            ui.kpi("Anomalies", fmt.number(daily["anomalies"].sum()), "from session matching"),
            ui.kpi(
                "Late events",
                fmt.number(daily["late_events"].sum()),
                f"received {LATE_AFTER_MINUTES} min to {BACKFILL_AFTER_HOURS} h after the event",
                slug="late",
            ),
            ui.kpi(
                "Backfilled",
                fmt.number(daily["backfilled_events"].sum()),
                f"received over {BACKFILL_AFTER_HOURS} h later: history loaded since, not late",
                slug="backfilled",
            ),
            ui.kpi(
                "Unregistered",
                fmt.number(daily["unregistered_events"].sum()),
                "events of facilities not in the estate",
                slug="unregistered",
            ),
        )

    def _unregistered(self, params: dict[str, object], daily: pd.DataFrame) -> list:
        """Facilities whose devices send events but that the estate does not list."""
        if not daily["unregistered_events"].sum():
            return []
        frame = self.store.frame(UNREGISTERED_SQL, params)
        for column in ("first_day", "last_day"):
            frame[column] = pd.to_datetime(frame[column]).dt.date
        return [
            ui.heading(
                "Facilities not in the estate",
                "Their events are kept in the lake but left out of every other page. To see "
                "them, add each facility to your estate file (PARKFLOW_ESTATE, see "
                "docs/estate.md); the next full refresh brings its history in.",
            ),
            ui.table(
                frame,
                "unregistered",
                titles={
                    "facility_id": "Facility id (as sent)",
                    "vendors": "Vendors",
                    "days": "Days",
                    "first_day": "First day (UTC)",
                    "last_day": "Last day (UTC)",
                },
            ),
        ]

    def _latest(self, params: dict[str, object]) -> pn.viewable.Viewable:
        frame = self.store.frame(LATEST_SQL, params)
        if frame.empty:
            return ui.empty("No day to show.")
        frame["outcome"] = [
            "WARN" if share >= DEAD_LETTER_LIMIT else "OK"
            for share in frame["dead_letter_share"].fillna(0)
        ]
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        table = ui.table(
            frame[
                [
                    "date",
                    "source",
                    "outcome",
                    "dead_letter_share",
                    "dead_letters",
                    "rows_landed",
                    "duplicate_rows",
                    "anomalies",
                ]
            ],
            "latest",
            titles={
                "date": "Day (UTC)",
                "source": "Vendor",
                "outcome": "Outcome",
                "dead_letter_share": "Rejected",
                "dead_letters": "Dead letters",
                "rows_landed": "Rows landed",
                "duplicate_rows": "Duplicates",
                "anomalies": "Anomalies",
            },
            percent=["dead_letter_share"],
        )
        table.style.map(
            lambda v: "background-color: #fff3c4" if v == "WARN" else "background-color: #c8e6c9",
            subset=["outcome"],
        )
        return table

    def _dead_letters(self, daily: pd.DataFrame) -> pn.viewable.Viewable:
        frame = daily.copy()
        frame["day"] = ui.day_label(frame["date"])
        plot = frame.hvplot.bar(
            x="day",
            y="dead_letters",
            by="source",
            stacked=True,
            hover_cols=["dead_letter_share"],
            hover_tooltips=[
                ("Vendor", "@source"),
                ("Day (UTC)", "@day"),
                ("Dead letters", "@dead_letters{0,0}"),
                ("Share rejected", "@dead_letter_share{0.00%}"),
            ],
            xlabel="",
            ylabel="Dead letters",
            responsive=True,
            legend="right",
            legend_opts={"title": "Vendor"},
        )
        return self.chart("dead-letters", plot)

    def _table(self, daily: pd.DataFrame) -> pn.viewable.Viewable:
        frame = daily.copy()
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        return ui.table(
            frame,
            "quality",
            titles={
                "date": "Day (UTC)",
                "source": "Vendor",
                "rows_landed": "Rows landed",
                "events": "Events",
                "duplicate_rows": "Duplicates",
                "flagged_events": "Flagged",
                "late_events": "Late",
                "backfilled_events": "Backfilled",
                "invalid_payments": "Invalid payments",
                "unregistered_events": "Unregistered",
                "dead_letters": "Dead letters",
                "dead_letter_share": "Rejected",
                "anomalies": "Anomalies",
                "unmatched_exits": "Unmatched exits",
                "unmatched_payments": "Unmatched payments",
                "abandoned_sessions": "Abandoned sessions",
            },
            percent=["dead_letter_share"],
        )
