"""Revenue: daily revenue by payment method, average ticket, RevPAS, compliance and leakage."""

from __future__ import annotations

import hvplot.pandas  # noqa: F401  (registers .hvplot)
import pandas as pd
import panel as pn

from dashboards import format as fmt
from dashboards import ui
from dashboards.pages.base import Page

FILTER = "($facility::varchar is null or facility_id = $facility)"

# the ALL rows (is_total) carry the day's totals and the session metrics; never add both
TOTALS_SQL = f"""
select
    currency,
    sum(revenue) as revenue,
    sum(gross_revenue) as gross_revenue,
    sum(transactions) as transactions,
    sum(capacity) as space_days,
    sum(sessions_due) as sessions_due,
    sum(sessions_paid) as sessions_paid,
    sum(leakage) as leakage
from mart_revenue_daily
where is_total and {FILTER} and local_date between $start and $end
group by currency
order by currency
"""

BY_METHOD_SQL = f"""
select local_date, payment_method, currency, sum(revenue) as revenue,
       sum(transactions) as transactions, sum(refunds) as refunds
from mart_revenue_daily
where not is_total and {FILTER} and local_date between $start and $end
group by all
order by local_date, payment_method
"""

DAILY_SQL = f"""
select
    local_date,
    currency,
    sum(revenue) as revenue,
    sum(revenue) / nullif(sum(capacity), 0) as revpas,
    sum(gross_revenue) / nullif(sum(transactions), 0) as avg_ticket,
    sum(sessions_paid) / nullif(sum(sessions_due), 0) as compliance,
    sum(sessions_due) as sessions_due,
    sum(sessions_paid) as sessions_paid,
    sum(leakage) as leakage
from mart_revenue_daily
where is_total and {FILTER} and local_date between $start and $end
group by all
order by local_date
"""

TARGETS_SQL = f"""
select facility_id, metric, count(*) as days, count(*) filter (where is_met) as days_met,
       avg(efficiency_pct) as efficiency_pct
from mart_target_efficiency
where zone_id is null and {FILTER} and local_date between $start and $end
group by all
order by facility_id, metric
"""


class RevenuePage(Page):
    """What was earned, how, and what was missed."""

    slug = "revenue"
    title = "Revenue"
    icon = "payments"
    marts = ("mart_revenue_daily", "mart_target_efficiency")

    views = {
        "method": "By payment method",
        "compliance": "Compliance and leakage",
        "targets": "Targets",
    }

    def render(self, *_: object) -> pn.viewable.Viewable:
        """KPIs per currency, the tab strip, then the view picked in it."""
        params = self.params()
        totals = self.store.frame(TOTALS_SQL, params)
        if totals.empty:
            return ui.empty(
                f"No revenue for {self.scope()}. Pick another facility or period, or check "
                "that the marts were published."
            )
        return pn.Column(
            self._summary(totals),
            self.view_tabs,
            *self._shown_view(params),
            sizing_mode="stretch_width",
        )

    def _shown_view(self, params: dict[str, object]) -> list[pn.viewable.Viewable]:
        if self.view == "compliance":
            daily = self.store.frame(DAILY_SQL, params)
            return [
                ui.heading(
                    "Payment compliance and leakage",
                    "Compliance = closed sessions paid in full / sessions owing something. "
                    "Leakage = what they owed but did not pay.",
                ),
                self._compliance(daily),
                ui.heading("Per day"),
                self._daily_table(daily),
            ]
        if self.view == "targets":
            return [
                ui.heading("Targets", "Share of days each daily target was met (efficiency %)."),
                self._targets(params),
            ]
        return [
            ui.heading("Revenue by payment method", "Completed minus refunded, per local day."),
            *self._by_method(params),
        ]

    def _summary(self, totals: pd.DataFrame) -> pn.viewable.Viewable:
        def per_currency(values: pd.Series) -> dict[str, float]:
            return {
                c: float(v) for c, v in zip(totals["currency"], values, strict=True) if pd.notna(v)
            }

        ticket = totals["gross_revenue"].astype(float) / totals["transactions"].replace(0, pd.NA)
        revpas = totals["revenue"].astype(float) / totals["space_days"].replace(0, pd.NA)
        due = totals["sessions_due"].sum()
        compliance = totals["sessions_paid"].sum() / due if due else None
        return ui.kpis(
            ui.kpi(
                "Revenue",
                fmt.moneys(per_currency(totals["revenue"])),
                "completed - refunded",
                slug="revenue",
            ),
            ui.kpi("Average ticket", fmt.moneys(per_currency(ticket)), "per completed payment"),
            ui.kpi("RevPAS", fmt.moneys(per_currency(revpas)), "revenue per space per day"),
            ui.kpi(
                "Payment compliance",
                fmt.percent(compliance),
                "sessions paid in full",
                slug="compliance",
            ),
            ui.kpi("Leakage", fmt.moneys(per_currency(totals["leakage"])), "owed, not paid"),
        )

    def _by_method(self, params: dict[str, object]) -> list[pn.viewable.Viewable]:
        frame = self.store.frame(BY_METHOD_SQL, params)
        if frame.empty:
            return [ui.empty("No payments in this period.")]
        frame["day"] = ui.day_label(frame["local_date"])
        frame["revenue"] = frame["revenue"].astype(float)
        frame["method"] = frame["payment_method"].str.replace("_", " ").str.title()
        charts = []
        # amounts in different currencies are never stacked together: one chart per currency
        for number, (currency, part) in enumerate(frame.groupby("currency", sort=True)):
            plot = part.hvplot.bar(
                x="day",
                y="revenue",
                by="method",
                stacked=True,
                hover_cols=["transactions"],
                hover_tooltips=[
                    ("Day", "@day"),
                    ("Method", "@method"),
                    ("Revenue", fmt.money_hover("revenue", currency)),
                    ("Payments", "@transactions{0,0}"),
                ],
                xlabel="",
                ylabel=f"Revenue ({currency})",
                yformatter=fmt.money_ticks(currency),
                responsive=True,
                legend="right",
                legend_opts={"title": "Method"},
            )
            charts.append(self.chart("by-method", plot, key=str(number)))
        return charts

    def _compliance(self, daily: pd.DataFrame) -> pn.viewable.Viewable:
        frame = daily.dropna(subset=["compliance"]).copy()
        if frame.empty:
            return ui.empty("No closed sessions owing money in this period (gated facilities).")
        frame["day"] = ui.day_label(frame["local_date"])
        frame["leakage"] = frame["leakage"].astype(float)
        currency = fmt.only_currency(frame["currency"])
        plot = frame.hvplot.line(
            x="day",
            y="compliance",
            by="currency",
            hover_cols=["sessions_due", "sessions_paid", "leakage"],
            hover_tooltips=[
                ("Day", "@day"),
                ("Compliance", "@compliance{0.0%}"),
                ("Sessions owing", "@sessions_due{0,0}"),
                ("Paid in full", "@sessions_paid{0,0}"),
                ("Leakage", fmt.money_hover("leakage", currency)),
            ],
            xlabel="",
            ylabel="Payment compliance",
            yformatter=fmt.percent_ticks(),
            ylim=(0, 1.05),
            responsive=True,
            legend=False,
        )
        return self.chart("compliance", plot)

    def _daily_table(self, daily: pd.DataFrame) -> pn.viewable.Viewable:
        frame = daily.copy()
        currency = fmt.only_currency(frame["currency"])
        for column in ("revenue", "avg_ticket", "leakage"):
            frame[column] = frame[column].astype(float)
        frame["local_date"] = pd.to_datetime(frame["local_date"]).dt.date
        columns = [
            "local_date",
            "currency",
            "revenue",
            "avg_ticket",
            "revpas",
            "compliance",
            "leakage",
        ]
        return ui.table(
            frame[columns],
            "daily",
            titles={
                "local_date": "Day",
                "currency": "Currency",
                "revenue": "Revenue",
                "avg_ticket": "Average ticket",
                "revpas": "RevPAS",
                "compliance": "Compliance",
                "leakage": "Leakage",
            },
            formatters={
                "revenue": fmt.money_cells(currency),
                "avg_ticket": fmt.money_cells(currency),
                "revpas": fmt.money_cells(currency),
                "leakage": fmt.money_cells(currency),
            },
            percent=["compliance"],
        )

    def _targets(self, params: dict[str, object]) -> pn.viewable.Viewable:
        frame = self.store.frame(TARGETS_SQL, params)
        if frame.empty:
            return ui.empty("No targets set for this facility and period.")
        frame["met"] = frame["days_met"] / frame["days"]
        frame["efficiency"] = frame["efficiency_pct"] / 100
        frame["metric"] = frame["metric"].str.replace("_", " ").str.capitalize()
        return ui.table(
            frame[["facility_id", "metric", "days", "met", "efficiency"]],
            "targets",
            titles={
                "facility_id": "Facility",
                "metric": "Target",
                "days": "Days",
                "met": "Days met",
                "efficiency": "Average efficiency",
            },
            percent=["met", "efficiency"],
        )
