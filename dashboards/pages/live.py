"""Live: vehicles inside per facility, occupied bays per zone, open alerts, from the worker.

While the page is shown it polls the worker's live API every `REFRESH_MS`; when the worker
does not answer it says "Stream offline" and shows no numbers (stale numbers would mislead),
and while it works through a backlog it says "Catching up" with what is still to read, and
shows no numbers either (half-processed counts would mislead as much). An alert's age is in
event time: how long it has been open in the feed's own clock, which a backlog or a feed that
ended long ago puts far from the wall clock. A count no car park can hold (below 0, above
capacity) is marked as flagged.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import hvplot.pandas  # noqa: F401  (registers .hvplot)
import pandas as pd
import panel as pn

from dashboards import format as fmt
from dashboards import ui
from dashboards.pages.base import Page
from dashboards.worker import LiveSnapshot, fetch_live, worker_url

REFRESH_MS = 3000


def occupancy_frame(snapshot: LiveSnapshot, facility: str | None) -> pd.DataFrame:
    """One row per facility or zone: label, occupied, capacity, rate (filtered)."""
    rows = [r for r in snapshot.occupancy if not facility or r.get("facility_id") == facility]
    frame = pd.DataFrame(
        rows,
        columns=["facility_id", "zone_id", "occupied", "capacity", "occupancy_rate", "flagged"],
    )
    frame["flagged"] = frame["flagged"].astype("boolean").fillna(False).astype(bool)
    frame["where"] = [
        f"{f} / {z}" if isinstance(z, str) and z else f
        for f, z in zip(frame["facility_id"], frame["zone_id"], strict=True)
    ]
    return frame


def whole_facilities(occupancy: pd.DataFrame) -> pd.DataFrame:
    """One count per facility: its own row, or the sum of its zones where it is counted only
    per zone (on-street bays)."""
    whole = occupancy[occupancy["zone_id"].isna()]
    zoned = occupancy[
        occupancy["zone_id"].notna() & ~occupancy["facility_id"].isin(whole["facility_id"])
    ]
    summed = zoned.groupby("facility_id", as_index=False)[["occupied", "capacity"]].sum()
    return pd.concat([whole[["facility_id", "occupied", "capacity"]], summed], ignore_index=True)


def alerts_frame(snapshot: LiveSnapshot, facility: str | None, now: datetime) -> pd.DataFrame:
    """Open alerts, newest first, with their age in minutes at `now` (the event time)."""
    rows = [a for a in snapshot.alerts if not facility or a.get("facility_id") == facility]
    frame = pd.DataFrame(
        rows, columns=["opened_at", "facility_id", "subject_id", "alert_type", "severity", "detail"]
    )
    opened = pd.to_datetime(frame["opened_at"], utc=True, errors="coerce")
    frame["open_minutes"] = ((now - opened).dt.total_seconds() / 60).clip(lower=0).round()
    return frame.drop(columns=["opened_at"]).iloc[::-1].reset_index(drop=True)


class LivePage(Page):
    """What is happening now."""

    slug = "live"
    title = "Live"
    icon = "sensors"
    marts = ()

    def __init__(self, **params: object) -> None:
        self.snapshot: LiveSnapshot | None = None
        self._callback: pn.io.callbacks.PeriodicCallback | None = None
        self._fetching = False
        self._body = pn.Column(sizing_mode="stretch_width")
        super().__init__(**params)

    def render(self, *_: object) -> pn.viewable.Viewable:
        """The latest snapshot for the current facility (fetched now if there is none yet)."""
        if self.snapshot is None:
            self.snapshot = fetch_live()
        self._draw()
        return self._body

    def on_show(self) -> None:
        """Poll the worker while the page is shown."""
        if self._callback is None and pn.state.curdoc is not None:
            self._callback = pn.state.add_periodic_callback(self.refresh, period=REFRESH_MS)

    def on_hide(self) -> None:
        """Stop polling."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    async def refresh(self) -> None:
        """Fetch a new snapshot (off the event loop) and redraw."""
        if self._fetching:  # a hanging worker can take longer than one period to time out
            return
        self._fetching = True
        try:
            self.snapshot = await asyncio.to_thread(fetch_live)
        finally:
            self._fetching = False
        self._draw()

    def _draw(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        if not snapshot.online:
            self._body.objects = [self._offline(snapshot)]
            return
        if snapshot.backlog.catching_up:
            self._body.objects = [self._catching_up(snapshot)]
            return
        facility = self.filters.facility or None
        occupancy = occupancy_frame(snapshot, facility)
        alerts = alerts_frame(snapshot, facility, snapshot.event_time or snapshot.fetched_at)
        updated = snapshot.fetched_at.astimezone().strftime("%H:%M:%S %Z")
        status = pn.pane.HTML(
            f'<span class="pf-live-dot"></span> Live, updated {ui.esc(updated)}; '
            f"refreshes every {REFRESH_MS // 1000} s.{ui.esc(event_clock(snapshot))}",
            css_classes=["pf-stream-online"],
            stylesheets=[
                ".pf-live-dot { display: inline-block; width: 10px; height: 10px; "
                "border-radius: 50%; background: #2e7d32; margin-right: 4px; }"
            ],
            margin=(8, 8),
        )
        if occupancy.empty:
            self._body.objects = [
                status,
                ui.empty(
                    "The worker is up but has counted no vehicles here yet.",
                    title="Waiting for events",
                ),
            ]
            return
        self._body.objects = [
            status,
            self._summary(occupancy, alerts, snapshot, facility),
            ui.heading("Occupancy now", "Vehicles inside per facility, occupied bays per zone."),
            *self._flagged(occupancy),
            self.chart("live-occupancy", self._chart(occupancy)),
            ui.heading("Open alerts"),
            self._alerts(alerts),
        ]

    def _offline(self, snapshot: LiveSnapshot) -> pn.viewable.Viewable:
        since = snapshot.fetched_at.astimezone().strftime("%H:%M:%S %Z")
        return ui.note(
            f"The streaming worker at {worker_url()} does not answer ({snapshot.error}; "
            f"checked {since}). Live numbers are hidden until it is back; this page retries "
            f"every {REFRESH_MS // 1000} s. The other pages read published history and still work.",
            "error",
            title="Stream offline",
            classes=["pf-stream-offline"],
        )

    def _catching_up(self, snapshot: LiveSnapshot) -> pn.viewable.Viewable:
        behind = snapshot.backlog
        reached = (
            f" It has reached {_when(snapshot.event_time)} in event time."
            if snapshot.event_time
            else ""
        )
        return ui.note(
            f"The streaming worker is working through a backlog: {fmt.number(behind.payloads)} "
            f"vendor payloads and {fmt.number(behind.batches)} event batches still to read."
            f"{reached} Live figures show once it has caught up (half-way through, its counts "
            f"would mislead); this page checks again every {REFRESH_MS // 1000} s. The other "
            "pages read published history and still work.",
            "info",
            title="Catching up",
            classes=["pf-stream-catching-up"],
        )

    def _flagged(self, occupancy: pd.DataFrame) -> list[pn.viewable.Viewable]:
        flagged = occupancy[occupancy["flagged"]]
        if flagged.empty:
            return []
        which = ", ".join(
            f"{w} at {fmt.number(o)} of {fmt.number(c)}"
            for w, o, c in zip(
                flagged["where"], flagged["occupied"], flagged["capacity"], strict=True
            )
        )
        return [
            ui.note(
                f"Flagged: {which}. No car park holds that many (or fewer than none): a "
                "counter's faulty reading, or camera misreads the session matcher has not "
                "corrected yet. Shown as counted.",
                "warning",
                classes=["pf-live-flagged"],
            )
        ]

    def _summary(
        self,
        occupancy: pd.DataFrame,
        alerts: pd.DataFrame,
        snapshot: LiveSnapshot,
        facility: str | None,
    ) -> pn.viewable.Viewable:
        sites = whole_facilities(occupancy)
        inside = int(sites["occupied"].sum())
        capacity = sites["capacity"].sum()
        rate = inside / capacity if capacity else None
        devices = [d for d in snapshot.devices if not facility or d.get("facility_id") == facility]
        offline = sum(1 for d in devices if d.get("status") == "OFFLINE")
        return ui.kpis(
            ui.kpi(
                "Vehicles inside",
                fmt.number(inside),
                f"of {fmt.number(capacity)} spaces ({fmt.percent(rate)})",
                slug="inside",
            ),
            ui.kpi(
                "Open alerts",
                fmt.number(len(alerts)),
                f"{(alerts['severity'] == 'CRITICAL').sum()} critical",
                slug="alerts",
            ),
            ui.kpi("Devices offline", fmt.number(offline), f"of {len(devices)} reporting"),
        )

    def _chart(self, occupancy: pd.DataFrame):
        frame = occupancy.assign(
            occupancy_rate=occupancy["occupancy_rate"].astype(float),
            capacity=occupancy["capacity"].astype(float),
        )
        return frame.hvplot.barh(
            x="where",
            y="occupancy_rate",
            hover_cols=["occupied", "capacity"],
            hover_tooltips=[
                ("", "@where"),
                ("Occupied", "@occupied{0,0}"),
                ("Capacity", "@capacity{0,0}"),
                ("Occupancy", "@occupancy_rate{0.0%}"),
            ],
            xlabel="",
            ylabel="Occupancy",
            # barh draws the value across: its axis is x for formatting, y for limits
            xformatter=fmt.percent_ticks(),
            ylim=(0, max(1.0, float(frame["occupancy_rate"].max() or 0) * 1.05)),
            responsive=True,
            color="#1976d2",
        )

    def _alerts(self, alerts: pd.DataFrame) -> pn.viewable.Viewable:
        if alerts.empty:
            return ui.note("No open alerts.", "success")
        table = ui.table(
            alerts,
            "live-alerts",
            titles={
                "facility_id": "Facility",
                "subject_id": "Device / area",
                "alert_type": "Alert",
                "severity": "Severity",
                "detail": "Detail",
                "open_minutes": "Open (min, event time)",
            },
            formatters={"open_minutes": fmt.count_cells()},
        )
        table.style.map(
            lambda s: "background-color: #ffcdd2" if s == "CRITICAL" else "", subset=["severity"]
        )
        return table


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def event_clock(snapshot: LiveSnapshot) -> str:
    """The status line's "Newest event: ..." when the feed's clock is over 5 minutes behind
    the wall clock (a backlog, a feed that stopped); "" otherwise."""
    if snapshot.event_time is None:
        return ""
    behind_min = (snapshot.fetched_at - snapshot.event_time).total_seconds() / 60
    if behind_min < 5:
        return ""
    age = fmt.minutes(behind_min) if behind_min < 48 * 60 else f"{behind_min / 1440:,.0f} days"
    return f" Newest event: {_when(snapshot.event_time)} ({age} ago)."
