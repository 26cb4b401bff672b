"""Occupancy: rate trend, hour-of-week heatmap, peak hours, forecast vs actual, turnover, dwell."""

from __future__ import annotations

import hvplot.pandas  # noqa: F401  (registers .hvplot)
import pandas as pd
import panel as pn

from dashboards import format as fmt
from dashboards import ui
from dashboards.pages.base import Page

FILTER = "($facility::varchar is null or facility_id = $facility)"

SUMMARY_SQL = f"""
select
    sum(occupied_seconds) / nullif(sum(observed_seconds * capacity), 0) as occupancy_rate,
    max(peak_occupancy_rate) as peak_rate,
    sum(sessions_started) as sessions_started,
    sum(sessions_started) filter (where turnover is not null)
        / nullif(sum(capacity) filter (where turnover is not null), 0) as turnover
from mart_occupancy_daily
where subject_kind = 'facility' and {FILTER} and local_date between $start and $end
"""

TREND_SQL = f"""
select facility_id, hour_start_local, occupancy_rate, avg_occupied, peak_occupied, capacity
from mart_occupancy_hourly
where subject_kind = 'facility' and {FILTER} and local_date between $start and $end
order by facility_id, hour_start_local
"""

# vehicle-seconds / space-seconds: the right average across facilities of different sizes
HEATMAP_SQL = f"""
select
    local_day_of_week,
    local_hour,
    sum(occupied_seconds) / nullif(sum(observed_seconds * capacity), 0) as occupancy_rate
from mart_occupancy_hourly
where subject_kind = 'facility' and {FILTER} and local_date between $start and $end
group by all
order by local_day_of_week, local_hour
"""

PEAKS_SQL = f"""
select facility_id, busiest_rank, local_day_of_week, local_hour, avg_occupancy_rate,
       max_peak_occupied, capacity
from mart_peak_hours
where subject_kind = 'facility' and {FILTER} and busiest_rank <= 3
order by facility_id, busiest_rank
"""

FORECAST_SQL = f"""
select
    hour_start_local,
    sum(expected_avg_occupied) / nullif(sum(capacity), 0) as expected_rate,
    case when count(actual_avg_occupied) = count(*)
         then sum(actual_avg_occupied) / nullif(sum(capacity), 0) end as actual_rate,
    min(weeks_used) as weeks_used
from mart_occupancy_forecast
where subject_kind = 'facility' and {FILTER}
group by hour_start_local
order by hour_start_local
"""

TURNOVER_SQL = f"""
select facility_id, local_date, turnover, sessions_started, capacity
from mart_occupancy_daily
where subject_kind = 'facility' and turnover is not null and {FILTER}
  and local_date between $start and $end
order by local_date, facility_id
"""

DWELL_BIN_MINUTES = 30
DWELL_BINS = 16  # 30-minute bins up to 8 hours, then "8 h+"

DWELL_SQL = f"""
select least(floor(dwell_minutes / {DWELL_BIN_MINUTES}), {DWELL_BINS})::int as bin,
       count(*) as sessions
from fct_parking_sessions
where status = 'CLOSED' and dwell_minutes is not null and {FILTER}
  and entry_date_local between $start and $end
group by all
order by bin
"""

DWELL_STATS_SQL = f"""
select count(*) as sessions, avg(dwell_minutes) as mean,
       quantile_cont(dwell_minutes, 0.5) as median, quantile_cont(dwell_minutes, 0.9) as p90
from fct_parking_sessions
where status = 'CLOSED' and dwell_minutes is not null and {FILTER}
  and entry_date_local between $start and $end
"""


def dwell_label(bin_index: int) -> str:
    """`0-30 min`, `30-60 min`, `1-1.5 h`, ..., `7.5-8 h`, `8 h+`."""
    low, high = bin_index * DWELL_BIN_MINUTES, (bin_index + 1) * DWELL_BIN_MINUTES
    if bin_index >= DWELL_BINS:
        return f"{low / 60:g} h+"
    if high <= 60:
        return f"{low}-{high} min"
    return f"{low / 60:g}-{high / 60:g} h"


class OccupancyPage(Page):
    """How full the facilities were, when, and how long vehicles stayed."""

    slug = "occupancy"
    title = "Occupancy"
    icon = "local_parking"
    marts = (
        "mart_occupancy_hourly",
        "mart_occupancy_daily",
        "mart_peak_hours",
        "mart_occupancy_forecast",
        "fct_parking_sessions",
    )

    views = {
        "trend": "Rate by hour",
        "week": "Hour of week",
        "forecast": "Forecast",
        "stays": "Turnover and stays",
    }

    def render(self, *_: object) -> pn.viewable.Viewable:
        """KPIs, the tab strip, then the view picked in it."""
        params = self.params()
        trend = self.store.frame(TREND_SQL, params)
        if trend.empty:
            return ui.empty(
                f"No occupancy for {self.scope()}. Pick another facility or period, or check "
                "that the marts were published."
            )
        return pn.Column(
            self._summary(params),
            self.view_tabs,
            *self._shown_view(params, trend),
            sizing_mode="stretch_width",
        )

    def _shown_view(
        self, params: dict[str, object], trend: pd.DataFrame
    ) -> list[pn.viewable.Viewable]:
        if self.view == "week":
            return [
                ui.heading("Hour of week", "Average occupancy rate per weekday and hour."),
                self._heatmap(params),
                ui.heading("Busiest hours", "The three busiest hours of the week per facility."),
                self._peaks(),
            ]
        if self.view == "forecast":
            return [
                ui.heading(
                    "Forecast vs actual, coming week",
                    "Expected rate = mean of the same hour in up to 4 earlier weeks.",
                ),
                self._forecast(),
            ]
        if self.view == "stays":
            return [
                ui.heading("Turnover", "Sessions started per space and day (gated and on-street)."),
                self._turnover(params),
                ui.heading("Dwell time", "How long vehicles stayed (closed sessions)."),
                self._dwell(params),
            ]
        return [
            ui.heading("Occupancy rate by hour", "Average vehicles inside / spaces, local time."),
            self.chart("trend", self._trend(trend)),
        ]

    def _summary(self, params: dict[str, object]) -> pn.viewable.Viewable:
        row = self.store.frame(SUMMARY_SQL, params)
        dwell = self.store.frame(DWELL_STATS_SQL, params)
        first = row.iloc[0] if not row.empty else pd.Series(dtype=object)
        stats = dwell.iloc[0] if not dwell.empty else pd.Series(dtype=object)
        return ui.kpis(
            ui.kpi(
                "Average occupancy",
                fmt.percent(first.get("occupancy_rate")),
                "vehicles inside / spaces",
                slug="occupancy-rate",
            ),
            ui.kpi("Peak occupancy", fmt.percent(first.get("peak_rate")), "busiest moment"),
            ui.kpi("Sessions started", fmt.number(first.get("sessions_started")), slug="sessions"),
            ui.kpi("Turnover", fmt.number(first.get("turnover"), 2), "sessions per space"),
            ui.kpi(
                "Median stay",
                fmt.minutes(stats.get("median")),
                f"p90 {fmt.minutes(stats.get('p90'))}",
            ),
        )

    def _trend(self, trend: pd.DataFrame):
        return trend.hvplot.line(
            x="hour_start_local",
            y="occupancy_rate",
            by="facility_id",
            hover_cols=["avg_occupied", "peak_occupied", "capacity"],
            hover_tooltips=[
                ("Facility", "@facility_id"),
                ("Hour", "@hour_start_local{%a %d %b %H:%M}"),
                ("Occupancy", "@occupancy_rate{0.0%}"),
                ("Average inside", "@avg_occupied{0,0.0}"),
                ("Peak inside", "@peak_occupied{0,0}"),
                ("Spaces", "@capacity{0,0}"),
            ],
            xlabel="Local time",
            ylabel="Occupancy",
            yformatter=fmt.percent_ticks(),
            responsive=True,
            legend="right",
            legend_opts={"title": "Facility"},
        )

    def _heatmap(self, params: dict[str, object]) -> pn.viewable.Viewable:
        frame = self.store.frame(HEATMAP_SQL, params)
        if frame.empty:
            return ui.empty("No hourly occupancy in this period.")
        frame["day"] = [ui.DAY_NAMES[d - 1] for d in frame["local_day_of_week"]]
        frame["hour"] = [f"{h:02d}" for h in frame["local_hour"]]
        plot = frame.hvplot.heatmap(
            x="hour",
            y="day",
            C="occupancy_rate",
            cmap="Blues",
            hover_tooltips=[
                ("Day", "@day"),
                ("Hour", "@hour:00"),
                ("Occupancy", "@occupancy_rate{0.0%}"),
            ],
            xlabel="Hour (local)",
            ylabel="",
            flip_yaxis=True,
            colorbar=True,
            clabel="Occupancy",
            responsive=True,
        ).opts(yticks=None)
        return self.chart("heatmap", plot)

    def _peaks(self) -> pn.viewable.Viewable:
        frame = self.store.frame(PEAKS_SQL, {"facility": self.filters.facility or None})
        if frame.empty:
            return ui.empty("No peak hours yet.")
        frame["day"] = [ui.DAY_NAMES[d - 1] for d in frame["local_day_of_week"]]
        frame["hours"] = [ui.hours_label(h) for h in frame["local_hour"]]
        frame = frame[
            [
                "facility_id",
                "busiest_rank",
                "day",
                "hours",
                "avg_occupancy_rate",
                "max_peak_occupied",
                "capacity",
            ]
        ]
        return ui.table(
            frame,
            "peaks",
            titles={
                "facility_id": "Facility",
                "busiest_rank": "Rank",
                "day": "Day",
                "hours": "Hours",
                "avg_occupancy_rate": "Average occupancy",
                "max_peak_occupied": "Most inside",
                "capacity": "Spaces",
            },
            percent=["avg_occupancy_rate"],
        )

    def _forecast(self) -> pn.viewable.Viewable:
        frame = self.store.frame(FORECAST_SQL, {"facility": self.filters.facility or None})
        if frame.empty or frame["expected_rate"].isna().all():
            return ui.empty("No forecast yet: it needs at least one earlier week of data.")
        long = frame.melt(
            id_vars=["hour_start_local", "weeks_used"],
            value_vars=["expected_rate", "actual_rate"],
            var_name="series",
            value_name="rate",
        )
        long["series"] = long["series"].map({"expected_rate": "Forecast", "actual_rate": "Actual"})
        plot = long.hvplot.line(
            x="hour_start_local",
            y="rate",
            by="series",
            hover_cols=["weeks_used"],
            hover_tooltips=[
                ("", "@series"),
                ("Hour", "@hour_start_local{%a %d %b %H:%M}"),
                ("Occupancy", "@rate{0.0%}"),
                ("Weeks averaged", "@weeks_used"),
            ],
            xlabel="Local time",
            ylabel="Occupancy",
            yformatter=fmt.percent_ticks(),
            responsive=True,
            legend="right",
            legend_opts={"title": ""},
        )
        return self.chart("forecast", plot)

    def _turnover(self, params: dict[str, object]) -> pn.viewable.Viewable:
        frame = self.store.frame(TURNOVER_SQL, params)
        if frame.empty:
            return ui.empty("No turnover: counted facilities do not see sessions.")
        frame["day"] = ui.day_label(frame["local_date"])
        plot = frame.hvplot.line(
            x="local_date",
            y="turnover",
            by="facility_id",
            hover_cols=["day", "sessions_started", "capacity"],
            hover_tooltips=[
                ("Facility", "@facility_id"),
                ("Day", "@day"),
                ("Turnover", "@turnover{0.00}"),
                ("Sessions started", "@sessions_started{0,0}"),
                ("Spaces", "@capacity{0,0}"),
            ],
            xlabel="Local day",
            ylabel="Sessions per space",
            line_width=2,
            responsive=True,
            legend="right",
            legend_opts={"title": "Facility"},
        )
        return self.chart("turnover", plot)

    def _dwell(self, params: dict[str, object]) -> pn.viewable.Viewable:
        frame = self.store.frame(DWELL_SQL, params)
        if frame.empty:
            return ui.empty("No closed sessions in this period.")
        # every bin, so the axis has no holes
        frame = (
            frame.set_index("bin")
            .reindex(range(DWELL_BINS + 1), fill_value=0)
            .rename_axis("bin")
            .reset_index()
        )
        frame["stay"] = [dwell_label(b) for b in frame["bin"]]
        frame["share"] = frame["sessions"] / frame["sessions"].sum()
        plot = frame.hvplot.bar(
            x="stay",
            y="sessions",
            hover_cols=["share"],
            hover_tooltips=[
                ("Stay", "@stay"),
                ("Sessions", "@sessions{0,0}"),
                ("Share", "@share{0.0%}"),
            ],
            xlabel="Length of stay",
            ylabel="Sessions",
            rot=45,
            responsive=True,
        )
        return self.chart("dwell", plot)
