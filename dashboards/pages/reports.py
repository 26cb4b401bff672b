"""Reports: the sessions and the daily revenue of a period and facility, to see and download.

Two downloads of the same rows: CSV (UTF-8 with a byte-order mark, so Excel opens it with
accented names intact) and an Excel workbook with formatted columns (`dashboards.excel`). The
workbook is built off the event loop, so a long report does not freeze the other sessions.
"""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass

import pandas as pd
import panel as pn
import panel_material_ui as pmui
import param

from dashboards import excel, ui
from dashboards import format as fmt
from dashboards.pages.base import Page

FILTER = "($facility::varchar is null or facility_id = $facility)"
PREVIEW_ROWS = 500
DATE_COLUMNS = {"entry_date_local", "local_date"}
MONEY_COLUMNS = {
    "amount_due",
    "amount_paid",
    "leakage",
    "gross_revenue",
    "refunds",
    "revenue",
    "avg_ticket",
    "revpas",
}
PERCENT_COLUMNS = {"payment_compliance"}


@dataclass(frozen=True)
class Report:
    """One downloadable table: its rows for the filters, and how to show them."""

    title: str
    file_stem: str
    sql: str  # every row for the filters, in file order
    count_sql: str
    titles: dict[str, str]


SESSION_COLUMNS = """
    session_id, facility_id, status, close_reason, entry_ts_local, exit_ts_local,
    entry_date_local, dwell_minutes, currency, amount_due, amount_paid, payments, leakage, is_paid
"""
SESSION_WHERE = f"where {FILTER} and entry_date_local between $start and $end"

REVENUE_COLUMNS = """
    facility_id, local_date, payment_method, currency, gross_revenue, refunds, revenue,
    transactions, refund_transactions, failed_transactions, avg_ticket, revpas, sessions_due,
    sessions_paid, payment_compliance, amount_due, leakage
"""
REVENUE_WHERE = f"where {FILTER} and local_date between $start and $end"

REPORTS: dict[str, Report] = {
    "sessions": Report(
        title="Parking sessions",
        file_stem="parkflow_sessions",
        sql=f"select {SESSION_COLUMNS} from fct_parking_sessions {SESSION_WHERE} "
        "order by entry_ts_local, session_id",
        count_sql=f"select count(*) as n from fct_parking_sessions {SESSION_WHERE}",
        titles={
            "session_id": "Session",
            "facility_id": "Facility",
            "status": "Status",
            "close_reason": "Closed by",
            "entry_ts_local": "Entry (local)",
            "exit_ts_local": "Exit (local)",
            "entry_date_local": "Entry day",
            "dwell_minutes": "Minutes",
            "currency": "Currency",
            "amount_due": "Due",
            "amount_paid": "Paid",
            "payments": "Payments",
            "leakage": "Leakage",
            "is_paid": "Paid in full",
        },
    ),
    "revenue": Report(
        title="Daily revenue",
        file_stem="parkflow_revenue",
        sql=f"select {REVENUE_COLUMNS} from mart_revenue_daily {REVENUE_WHERE} "
        "order by local_date, facility_id, is_total, payment_method",
        count_sql=f"select count(*) as n from mart_revenue_daily {REVENUE_WHERE}",
        titles={
            "facility_id": "Facility",
            "local_date": "Day",
            "payment_method": "Method",
            "currency": "Currency",
            "gross_revenue": "Gross",
            "refunds": "Refunds",
            "revenue": "Revenue",
            "transactions": "Payments",
            "refund_transactions": "Refunds (n)",
            "failed_transactions": "Failed (n)",
            "avg_ticket": "Average ticket",
            "revpas": "RevPAS",
            "sessions_due": "Sessions owing",
            "sessions_paid": "Paid in full",
            "payment_compliance": "Compliance",
            "amount_due": "Due",
            "leakage": "Leakage",
        },
    ),
}


def safe_file_part(text: str) -> str:
    """A filter value fit for a file name (it may come from the URL)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "all"


# a spreadsheet runs a cell that starts with one of these as a formula (CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with `'` (shown as text).

    Vendor payloads put text in the marts (device and facility ids, dead-letter reasons); a
    manager opens the CSV in a spreadsheet. Numbers are left alone: -5 stays a number.
    """
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        if risky.any():
            frame[column] = values.mask(risky, "'" + values.astype(str))
    return frame


def to_csv(frame: pd.DataFrame) -> io.BytesIO:
    """CSV bytes Excel opens correctly (UTF-8 with BOM), no cell run as a formula."""
    return io.BytesIO(neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig"))


def to_xlsx(frame: pd.DataFrame, report: Report) -> io.BytesIO:
    """The report as an Excel workbook: its titles, money, percentages and dates formatted."""
    columns = excel.Columns(
        titles=report.titles,
        money=frozenset(MONEY_COLUMNS),
        percent=frozenset(PERCENT_COLUMNS),
        days=frozenset(DATE_COLUMNS),
    )
    return excel.to_xlsx(frame, report.title, columns)


class ReportsPage(Page):
    """Tables to take away."""

    slug = "reports"
    title = "Reports"
    icon = "download"
    marts = ("fct_parking_sessions", "mart_revenue_daily")

    report = param.Selector(default="sessions", objects=list(REPORTS), doc="The report shown.")

    def __init__(self, **params: object) -> None:
        if params.get("report") not in REPORTS:
            params.pop("report", None)  # from the URL: an unknown report shows the default
        super().__init__(**params)
        self.report_widget = pmui.RadioButtonGroup(
            options={r.title: key for key, r in REPORTS.items()}, value=self.report, width=420
        )
        self.report_widget.link(self, value="report", bidirectional=True)

    def extra_dependencies(self) -> list[param.Parameter]:
        """Choosing another report re-renders the page."""
        return [self.param.report]

    def file_name(self, extension: str = "csv") -> str:
        """`parkflow_sessions_FAC-001_2026-11-15_2026-11-21.csv` (or `.xlsx`)."""
        report = REPORTS[self.report]
        facility = safe_file_part(self.filters.facility or "all")
        return f"{report.file_stem}_{facility}_{self.filters.start}_{self.filters.end}.{extension}"

    def rows(self) -> pd.DataFrame:
        """Every row of the chosen report for the current filters."""
        return self.store.frame(REPORTS[self.report].sql, self.params())

    def workbook(self) -> io.BytesIO:
        """Every row of the chosen report as an Excel workbook."""
        return to_xlsx(self.rows(), REPORTS[self.report])

    async def _workbook_off_loop(self) -> io.BytesIO:
        return await asyncio.to_thread(self.workbook)

    def _downloads(self, rows: int) -> pn.Row:
        csv = pmui.FileDownload(
            callback=lambda: to_csv(self.rows()),
            filename=self.file_name("csv"),
            label=f"Download CSV ({fmt.number(rows)} rows)",
            icon="download",
            css_classes=["pf-download-csv"],
            margin=(8, 8),
        )
        fits = rows <= excel.MAX_ROWS
        label = f"Download Excel ({fmt.number(rows)} rows)"
        if not fits:
            label = f"Too many rows for Excel (at most {fmt.number(excel.MAX_ROWS)}): use CSV"
        xlsx = pmui.FileDownload(
            callback=self._workbook_off_loop,
            filename=self.file_name("xlsx"),
            label=label,
            icon="table_view",
            disabled=not fits,
            css_classes=["pf-download-xlsx"],
            margin=(8, 8),
        )
        return pn.Row(csv, xlsx, sizing_mode="stretch_width")

    def render(self, *_: object) -> pn.viewable.Viewable:
        """The report picker, the row count, the downloads (CSV, Excel) and a preview."""
        report = REPORTS[self.report]
        count = self.store.frame(report.count_sql, self.params())
        rows = int(count["n"].iloc[0]) if not count.empty else 0
        header = pn.Row(self.report_widget, sizing_mode="stretch_width")
        if rows == 0:
            return pn.Column(
                header,
                ui.empty(f"No {report.title.lower()} for {self.scope()}."),
                sizing_mode="stretch_width",
            )
        preview = self.store.frame(f"{report.sql} limit {PREVIEW_ROWS}", self.params())
        for column in DATE_COLUMNS & set(preview.columns):
            preview[column] = pd.to_datetime(preview[column]).dt.date
        formatters = {c: fmt.decimal_cells(2) for c in MONEY_COLUMNS & set(preview.columns)}
        percent = sorted(PERCENT_COLUMNS & set(preview.columns))
        shown = f"the first {PREVIEW_ROWS} of " if rows > PREVIEW_ROWS else ""
        return pn.Column(
            header,
            ui.kpis(ui.kpi(report.title, fmt.number(rows), self.scope(), slug="report-rows")),
            self._downloads(rows),
            ui.heading("Preview", f"Showing {shown}{fmt.number(rows)} rows; the files have all."),
            ui.table(
                preview,
                f"report-{self.report}",
                titles=report.titles,
                formatters=formatters,
                percent=percent,
            ),
            sizing_mode="stretch_width",
        )
