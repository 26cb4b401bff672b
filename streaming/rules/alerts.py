"""Opening and resolving alerts: the lifecycle both the device and the occupancy rules share.

An alert is emitted once when it opens (version 1) and once more when it resolves
(the same row with state RESOLVED and version + 1). While open it is kept in a
mapping the caller owns, under `alert_key(subject, type)`, which is what makes
"at most one open alert per (subject, type)" hold.
"""

from __future__ import annotations

from datetime import datetime

from parkflow.records import AlertRecord, AlertSeverity, AlertState, AlertType


def alert_key(subject_id: str, alert_type: AlertType) -> str:
    """The key of the open alert of one type about one subject (device, facility or zone)."""
    return f"{subject_id}|{alert_type.value}"


def open_alert(
    alert_type: AlertType,
    severity: AlertSeverity,
    *,
    facility_id: str,
    subject_id: str,
    opened_at: datetime,
    ts: datetime,
    value: float | None,
    detail: str,
) -> AlertRecord:
    """A newly opened alert (version 1), its id derived from subject, type and opening time."""
    return AlertRecord(
        alert_id=AlertRecord.make_id(subject_id, alert_type, opened_at),
        alert_type=alert_type,
        severity=severity,
        state=AlertState.OPEN,
        facility_id=facility_id,
        subject_id=subject_id,
        opened_at=opened_at,
        ts=ts,
        value=value,
        detail=detail,
    )


def resolve_alert(alert: AlertRecord, at: datetime) -> AlertRecord:
    """The resolved version of an open alert; value and detail stay those of the opening.

    A reading delivered late can resolve an alert with a time before it opened;
    resolved_at is then the opening time, so an alert never lasts less than zero.
    """
    return alert.model_copy(
        update={
            "state": AlertState.RESOLVED,
            "resolved_at": max(at, alert.opened_at),
            "ts": at,
            "version": alert.version + 1,
        }
    )


def format_number(value: float) -> str:
    """A reading for a sentence: no trailing ".0", no exponent for ordinary magnitudes."""
    return f"{value:.10g}"
