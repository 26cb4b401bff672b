"""Rows the streaming layer derives from canonical events: sessions, anomalies and alerts.

They are the contract between the streaming agents, the lake (one Parquet table
each) and the dbt models. A session or an alert changes over time; every change
is emitted as a new row with a higher `version`, and readers keep the latest
version per id (the lake is an append-only log, written at least once).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from parkflow.events import UtcTime, make_event_id


class SessionStatus(StrEnum):
    """Where a parking session stands."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"
    ABANDONED = "ABANDONED"


class CloseReason(StrEnum):
    """Why a session stopped being open."""

    EXIT = "EXIT"  # its exit was seen
    NEW_ENTRY = "NEW_ENTRY"  # the same plate entered again: the exit was missed
    MAX_STAY = "MAX_STAY"  # open longer than the facility's maximum stay


class SessionRecord(BaseModel):
    """One version of a parking session, keyed by `session_id` (the entry's event id)."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    facility_id: str
    plate: str
    status: SessionStatus
    entry_event_id: str
    entry_ts: UtcTime
    entry_device_id: str
    exit_event_id: str | None = None
    exit_ts: UtcTime | None = None
    exit_device_id: str | None = None
    duration_s: int | None = None
    amount_paid: Decimal = Decimal("0.00")
    payments: int = 0
    close_reason: CloseReason | None = None
    version: int = 1
    updated_at: UtcTime


class AnomalyType(StrEnum):
    """Inputs that could not become part of a session, and why."""

    UNMATCHED_EXIT = "UNMATCHED_EXIT"  # no entry for it within the grace window
    UNMATCHED_PAYMENT = "UNMATCHED_PAYMENT"  # no session of that plate to pay for
    DUPLICATE_EVENT = "DUPLICATE_EVENT"  # an event id seen before: processed once


class AnomalyRecord(BaseModel):
    """An input the session matcher set aside, with the reason."""

    model_config = ConfigDict(frozen=True)

    anomaly_id: str
    anomaly_type: AnomalyType
    facility_id: str
    event_id: str
    event_type: str
    plate: str | None = None
    ts: UtcTime
    detected_at: UtcTime
    detail: str

    @staticmethod
    def make_id(anomaly_type: AnomalyType, event_id: str) -> str:
        """Stable id: the same anomaly found twice (a replay) is the same row."""
        return make_event_id("anomaly", anomaly_type.value, event_id)


class AlertType(StrEnum):
    """What an alert is about."""

    OFFLINE = "OFFLINE"  # no telemetry for 2 minutes
    HIGH_POWER = "HIGH_POWER"  # voltage x current above 2000 W
    INVALID_DATA = "INVALID_DATA"  # current above 100 A or voltage above 500 V
    NEAR_CAPACITY = "NEAR_CAPACITY"  # occupancy at 90% of capacity or more
    FULL = "FULL"  # occupancy at capacity


class AlertSeverity(StrEnum):
    """How urgent an alert is."""

    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class AlertState(StrEnum):
    """An alert opens once and resolves once."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class AlertRecord(BaseModel):
    """One transition (opened or resolved) of an alert about a device or a facility/zone.

    `subject_id` is the device id for device alerts and the facility or zone id for
    capacity alerts. At most one alert per (subject, type) is open at a time.
    """

    model_config = ConfigDict(frozen=True)

    alert_id: str
    alert_type: AlertType
    severity: AlertSeverity
    state: AlertState
    facility_id: str
    subject_id: str
    opened_at: UtcTime
    resolved_at: UtcTime | None = None
    ts: UtcTime
    value: float | None = None
    detail: str
    version: int = 1

    @staticmethod
    def make_id(subject_id: str, alert_type: AlertType, opened_at: datetime) -> str:
        """Stable id of an alert from what it is about and when it opened."""
        return make_event_id("alert", subject_id, alert_type.value, opened_at.isoformat())
