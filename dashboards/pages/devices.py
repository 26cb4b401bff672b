"""Devices: health scores with status colours, devices offline now, alerts by severity/state."""

from __future__ import annotations

import pandas as pd
import panel as pn
import panel_material_ui as pmui
import param

from dashboards import format as fmt
from dashboards import ui
from dashboards.filters import clean
from dashboards.pages.base import Page

FILTER = "($facility::varchar is null or facility_id = $facility)"
ANY = ""
SEVERITIES = ("WARNING", "CRITICAL")
STATES = ("OPEN", "RESOLVED")
STATUS_COLOURS = {  # background of the status cell
    "OK": "#c8e6c9",
    "WARNING": "#fff3c4",
    "CRITICAL": "#ffcdd2",
    "OFFLINE": "#e0e0e0",
}
STATUS_ORDER = (
    "case status when 'OFFLINE' then 0 when 'CRITICAL' then 1 when 'WARNING' then 2 else 3 end"
)

HEALTH_SQL = f"""
select facility_id, device_id, device_kind, source, status, health_score,
       seconds_since_last_seen / 60.0 as minutes_since_seen, open_alerts,
       array_to_string(open_alert_types, ', ') as open_alert_types,
       last_power_w, last_battery_pct, as_of
from mart_device_health
where {FILTER}
order by {STATUS_ORDER}, health_score, facility_id, device_id
"""

ALERTS_SQL = f"""
select opened_at_local, facility_id, subject_id, subject_kind, alert_type, severity, state,
       duration_minutes, detail
from mart_alerts
where {FILTER}
  and opened_date_local between $start and $end
  and ($severity::varchar is null or severity = $severity)
  and ($state::varchar is null or state = $state)
order by opened_at_local desc
"""


def _choice_widget(label: str, choices: tuple[str, ...], value: str) -> pmui.Select:
    options = {"Any": ANY} | {c.title(): c for c in choices}
    if value not in options.values():
        options[value] = value  # from the URL: kept, it just matches nothing
    return pmui.Select(label=label, options=options, value=value, width=180)


class DevicesPage(Page):
    """Which devices are healthy, which are offline, and what alerted."""

    slug = "devices"
    title = "Devices"
    icon = "router"
    marts = ("mart_device_health", "mart_alerts")

    severity = param.String(default=ANY, doc="Alert severity shown (empty: any).")
    state = param.String(default=ANY, doc="Alert state shown (empty: any).")

    def __init__(self, **params: object) -> None:
        params["severity"] = clean(params.get("severity"))  # type: ignore[arg-type]
        params["state"] = clean(params.get("state"))  # type: ignore[arg-type]
        super().__init__(**params)
        self.severity_widget = _choice_widget("Severity", SEVERITIES, self.severity)
        self.state_widget = _choice_widget("State", STATES, self.state)
        self.severity_widget.link(self, value="severity", bidirectional=True)
        self.state_widget.link(self, value="state", bidirectional=True)

    def extra_dependencies(self) -> list[param.Parameter]:
        """The alert filters re-render the page too."""
        return [self.param.severity, self.param.state]

    def render(self, *_: object) -> pn.viewable.Viewable:
        """KPIs, the offline list, the health table and the alerts."""
        health = self.store.frame(HEALTH_SQL, self.params())
        if health.empty:
            body: list[pn.viewable.Viewable] = [
                ui.empty(f"No device telemetry for {self.scope()}.")
            ]
        else:
            body = self._health(health)
        return pn.Column(
            *body,
            ui.heading("Alerts", "Opened in the chosen period; pick a severity and a state."),
            pn.Row(self.severity_widget, self.state_widget),
            self._alerts(),
            sizing_mode="stretch_width",
        )

    def _health(self, health: pd.DataFrame) -> list[pn.viewable.Viewable]:
        as_of = pd.to_datetime(health["as_of"]).max()
        offline = health[health["status"] == "OFFLINE"]
        cards = ui.kpis(
            ui.kpi("Devices", fmt.number(len(health)), slug="devices"),
            ui.kpi("Offline now", fmt.number(len(offline)), "no telemetry", slug="offline"),
            ui.kpi("Critical", fmt.number((health["status"] == "CRITICAL").sum())),
            ui.kpi("Average health", fmt.number(health["health_score"].mean(), 0), "of 100"),
        )
        parts: list[pn.viewable.Viewable] = [
            ui.heading(
                "Device health",
                f"As of the newest data ({as_of:%d %b %H:%M} UTC). Score: 100, minus 10 per "
                "open alert, minus 30 when the last reading is stale.",
            ),
            cards,
        ]
        if len(offline):
            names = ", ".join(offline["device_id"].head(20))
            more = f" and {len(offline) - 20} more" if len(offline) > 20 else ""
            parts.append(ui.note(f"{names}{more}", "warning", title="Offline now"))
        frame = health.drop(columns=["as_of"])
        table = ui.table(
            frame,
            "health",
            titles={
                "facility_id": "Facility",
                "device_id": "Device",
                "device_kind": "Kind",
                "source": "Vendor",
                "status": "Status",
                "health_score": "Health",
                "minutes_since_seen": "Minutes since seen",
                "open_alerts": "Open alerts",
                "open_alert_types": "Alert types",
                "last_power_w": "Power (W)",
                "last_battery_pct": "Battery (%)",
            },
            formatters={
                "minutes_since_seen": fmt.count_cells(),
                "last_power_w": fmt.decimal_cells(1),
                "last_battery_pct": fmt.decimal_cells(0),
            },
        )
        table.style.map(
            lambda status: f"background-color: {STATUS_COLOURS.get(status, '')}", subset=["status"]
        )
        parts.append(table)
        return parts

    def _alerts(self) -> pn.viewable.Viewable:
        params = self.params() | {"severity": self.severity or None, "state": self.state or None}
        frame = self.store.frame(ALERTS_SQL, params)
        if frame.empty:
            return ui.empty("No alerts match these filters.")
        frame["opened_at_local"] = pd.to_datetime(frame["opened_at_local"]).dt.strftime(
            "%a %d %b %H:%M"
        )
        table = ui.table(
            frame,
            "alerts",
            titles={
                "opened_at_local": "Opened (local)",
                "facility_id": "Facility",
                "subject_id": "Device / area",
                "subject_kind": "Kind",
                "alert_type": "Alert",
                "severity": "Severity",
                "state": "State",
                "duration_minutes": "Minutes",
                "detail": "Detail",
            },
            formatters={"duration_minutes": fmt.count_cells()},
        )
        table.style.map(
            lambda s: "background-color: #ffcdd2" if s == "CRITICAL" else "", subset=["severity"]
        )
        return table
