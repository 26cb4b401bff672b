"""Device health: telemetry readings and silences become alerts and a health score.

Plain Python with no Faust in it: the devices agent is a thin shell around
`DeviceMonitor`, and batch replay uses it as is. There is no wall clock inside:
readings carry their event time and `check_offline` / `health_score` /
`devices` take "now" as a parameter, so the same input gives the same output.

The rules (ARCHITECTURE, "Device rules (from field practice)"):

- OFFLINE (WARNING): no telemetry for `offline_after` (2 min); resolved by the next reading.
- INVALID_DATA (WARNING): current above 100 A or voltage above 500 V; resolved by a
  valid reading.
- HIGH_POWER (CRITICAL): power above 2000 W; resolved by a reading at or below 2000 W.
  An invalid reading neither opens nor resolves HIGH_POWER: a glitching sensor must
  not raise (or clear) a critical power alarm.
- At most one open alert per (device, alert type).
- A reading older than the device's latest one (delivered out of order) changes no
  alert and does not move the device's last-seen time back.
- Health score: 100, minus 10 per open alert, minus 30 when the last telemetry is
  `stale_after` (5 min) old or more, or the device never reported; clamped to 0..100.

State lives in two mappings the caller owns (dicts, or changelog-backed Faust
Tables): `last_seen` (device id -> `LastSeen`) and `open_alerts`
(`alert_key(device id, type)` -> the open `AlertRecord`).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from parkflow.events import TelemetryEvent, UtcTime
from parkflow.records import AlertRecord, AlertSeverity, AlertType
from streaming.rules.alerts import alert_key, format_number, open_alert, resolve_alert

DEFAULT_OFFLINE_AFTER = timedelta(minutes=2)
DEFAULT_STALE_AFTER = timedelta(minutes=5)
ALERT_PENALTY = 10
STALE_PENALTY = 30

DeviceStatus = Literal["OK", "WARNING", "CRITICAL", "OFFLINE"]


class LastSeen(BaseModel):
    """Where a device is and the event time of its latest telemetry."""

    facility_id: str
    ts: UtcTime


class DeviceHealth(BaseModel):
    """One row of the live device list."""

    facility_id: str
    device_id: str
    last_seen: UtcTime
    seconds_since: float
    open_alerts: list[AlertType]
    health_score: int
    status: DeviceStatus


def score(open_alerts: int, stale: bool) -> int:
    """The health score arithmetic: 100 - 10 per open alert - 30 when stale, clamped to 0..100."""
    raw = 100 - ALERT_PENALTY * open_alerts - (STALE_PENALTY if stale else 0)
    return max(0, min(100, raw))


class DeviceMonitor:
    """Turns telemetry readings and silences into device alerts."""

    def __init__(
        self,
        last_seen: MutableMapping[str, LastSeen],
        open_alerts: MutableMapping[str, AlertRecord],
        *,
        offline_after: timedelta = DEFAULT_OFFLINE_AFTER,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
        max_power_w: float = 2000.0,
        max_current_a: float = 100.0,
        max_voltage_v: float = 500.0,
    ) -> None:
        self.last_seen = last_seen
        self.open_alerts = open_alerts
        self.offline_after = offline_after
        self.stale_after = stale_after
        self.max_power_w = max_power_w
        self.max_current_a = max_current_a
        self.max_voltage_v = max_voltage_v

    # --- input -----------------------------------------------------------------------------

    def on_telemetry(self, event: TelemetryEvent) -> list[AlertRecord]:
        """Apply one reading; returns the alerts it opened or resolved (OFFLINE, INVALID, POWER).

        A reading older than the device's latest one changes nothing and returns [].
        """
        seen = self.last_seen.get(event.device_id)
        if seen is not None and event.ts < seen.ts:
            return []
        # the event is validated already: no need to validate its fields again per reading
        latest = LastSeen.model_construct(facility_id=event.facility_id, ts=event.ts)
        self.last_seen[event.device_id] = latest
        changes = self._resolve(event.device_id, AlertType.OFFLINE, event.ts)
        problem = self._invalid_data(event)
        if problem is not None:
            # an invalid reading says nothing about power: HIGH_POWER is left as it is
            value, detail = problem
            warning = AlertSeverity.WARNING
            return changes + self._open(event, AlertType.INVALID_DATA, warning, value, detail)
        changes += self._resolve(event.device_id, AlertType.INVALID_DATA, event.ts)
        return changes + self._check_power(event)

    def check_offline(self, now: datetime) -> list[AlertRecord]:
        """Open OFFLINE for every device silent for `offline_after` or longer (once per silence).

        The alert opens at the moment the device went offline (last reading + offline_after)
        and is stamped `now`, the time of the check.
        """
        opened: list[AlertRecord] = []
        for device_id, seen in self.last_seen.items():
            key = alert_key(device_id, AlertType.OFFLINE)
            if key in self.open_alerts or now - seen.ts < self.offline_after:
                continue
            alert = open_alert(
                AlertType.OFFLINE,
                AlertSeverity.WARNING,
                facility_id=seen.facility_id,
                subject_id=device_id,
                opened_at=seen.ts + self.offline_after,
                ts=now,
                value=(now - seen.ts).total_seconds(),
                detail=f"no telemetry since {seen.ts.isoformat()} "
                f"(limit {format_number(self.offline_after.total_seconds())} s)",
            )
            self.open_alerts[key] = alert
            opened.append(alert)
        return opened

    # --- queries ---------------------------------------------------------------------------

    def open_alert_types(self, device_id: str) -> list[AlertType]:
        """The types of the device's open alerts, in AlertType order."""
        return [t for t in AlertType if alert_key(device_id, t) in self.open_alerts]

    def health_score(self, device_id: str, now: datetime) -> int:
        """100, minus 10 per open alert, minus 30 when stale or never reported; 0..100."""
        return score(len(self.open_alert_types(device_id)), self._is_stale(device_id, now))

    def devices(self, now: datetime) -> list[DeviceHealth]:
        """Every device that ever reported, with its health at `now`, by facility and device."""
        rows = [self._health(device_id, seen, now) for device_id, seen in self.last_seen.items()]
        return sorted(rows, key=lambda row: (row.facility_id, row.device_id))

    # --- helpers ---------------------------------------------------------------------------

    def _invalid_data(self, event: TelemetryEvent) -> tuple[float, str] | None:
        """(the first out-of-range value, a sentence naming every one), or None when valid."""
        problems: list[tuple[str, float, float, str]] = []
        if event.current_a > self.max_current_a:
            problems.append(("current", event.current_a, self.max_current_a, "A"))
        if event.voltage_v > self.max_voltage_v:
            problems.append(("voltage", event.voltage_v, self.max_voltage_v, "V"))
        if not problems:
            return None
        return problems[0][1], ", ".join(_above(*problem) for problem in problems)

    def _check_power(self, event: TelemetryEvent) -> list[AlertRecord]:
        power = _power(event)
        if power <= self.max_power_w:
            return self._resolve(event.device_id, AlertType.HIGH_POWER, event.ts)
        detail = _above("power", power, self.max_power_w, "W")
        return self._open(event, AlertType.HIGH_POWER, AlertSeverity.CRITICAL, power, detail)

    def _open(
        self,
        event: TelemetryEvent,
        alert_type: AlertType,
        severity: AlertSeverity,
        value: float,
        detail: str,
    ) -> list[AlertRecord]:
        key = alert_key(event.device_id, alert_type)
        if key in self.open_alerts:
            return []
        alert = open_alert(
            alert_type,
            severity,
            facility_id=event.facility_id,
            subject_id=event.device_id,
            opened_at=event.ts,
            ts=event.ts,
            value=value,
            detail=detail,
        )
        self.open_alerts[key] = alert
        return [alert]

    def _resolve(self, device_id: str, alert_type: AlertType, at: datetime) -> list[AlertRecord]:
        alert = self.open_alerts.pop(alert_key(device_id, alert_type), None)
        return [] if alert is None else [resolve_alert(alert, at)]

    def _is_stale(self, device_id: str, now: datetime) -> bool:
        seen = self.last_seen.get(device_id)
        return seen is None or now - seen.ts >= self.stale_after

    def _health(self, device_id: str, seen: LastSeen, now: datetime) -> DeviceHealth:
        types = self.open_alert_types(device_id)
        return DeviceHealth(
            facility_id=seen.facility_id,
            device_id=device_id,
            last_seen=seen.ts,
            # an event time may be ahead of the caller's clock (skew): never show a negative age
            seconds_since=max(0.0, (now - seen.ts).total_seconds()),
            open_alerts=types,
            health_score=self.health_score(device_id, now),
            status=self._status(device_id, seen, now),
        )

    def _status(self, device_id: str, seen: LastSeen, now: datetime) -> DeviceStatus:
        types = self.open_alert_types(device_id)
        # silent long enough counts as offline even before the next offline check has run
        if AlertType.OFFLINE in types or now - seen.ts >= self.offline_after:
            return "OFFLINE"
        severities = {self.open_alerts[alert_key(device_id, t)].severity for t in types}
        if AlertSeverity.CRITICAL in severities:
            return "CRITICAL"
        if severities:
            return "WARNING"
        return "OK"


def _power(event: TelemetryEvent) -> float:
    # the model derives power_w when the device leaves it out; the fallback is for the type checker
    if event.power_w is None:
        return event.voltage_v * event.current_a
    return event.power_w


def _above(name: str, value: float, limit: float, unit: str) -> str:
    return f"{name} {format_number(value)} {unit} above {format_number(limit)} {unit}"
