"""Live occupancy: how many vehicles each facility and zone holds, and capacity alerts.

Plain Python with no Faust in it: the occupancy agent is a thin shell around
`OccupancyTracker`, and batch replay uses it as is. Every time comes from the
events, so the same input gives the same output.

Subjects: a facility is keyed by its id ("FAC-001"), an on-street zone by
"FAC-001/Z-1" (ids cannot contain "/"). Their counts:

- gated facilities: entries minus exits, corrected by the session matcher where a camera
  missed a read (`on_inside`: -1 for a session ABANDONED, its exit missed; +1 for an exit
  without an entry): the vehicles of the OPEN sessions. Not clamped at 0, so the live figure
  can be checked against the lake;
- on-street zones: the number of bays whose sensor last said occupied;
- counting systems: the latest reading, as received (negative or above capacity too).

For a subject with a capacity, NEAR_CAPACITY (WARNING) is open while occupied /
capacity >= near_ratio and FULL (CRITICAL) while occupied >= capacity (so a full
subject has both open); each resolves when the ratio drops below its threshold.

State lives in mappings the caller owns (dicts, or changelog-backed Faust Tables):
`counts` (subject -> count), `bays` ("FAC-001/Z-1/B-7" -> occupied) and
`open_alerts` (`alert_key(subject, type)` -> the open `AlertRecord`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import datetime

from pydantic import BaseModel

from parkflow.events import (
    BayStatusEvent,
    EntryEvent,
    EventBase,
    ExitEvent,
    OccupancyCountEvent,
)
from parkflow.records import AlertRecord, AlertSeverity, AlertType
from streaming.rules.alerts import alert_key, open_alert, resolve_alert

DEFAULT_NEAR_RATIO = 0.9
SEVERITY = {AlertType.NEAR_CAPACITY: AlertSeverity.WARNING, AlertType.FULL: AlertSeverity.CRITICAL}


class OccupancyRow(BaseModel):
    """One row of the live occupancy view (GET /live/occupancy)."""

    facility_id: str
    zone_id: str | None
    occupied: int
    capacity: int | None
    occupancy_rate: float | None
    #: A count no car park can hold (below 0, above capacity): a counter's flagged reading,
    #: or missed reads not yet corrected. Shown as counted, marked so nobody takes it as real.
    flagged: bool = False


def subject_key(facility_id: str, zone_id: str | None = None) -> str:
    """The key of a facility ("FAC-001") or of one of its zones ("FAC-001/Z-1")."""
    return facility_id if zone_id is None else f"{facility_id}/{zone_id}"


def bay_key(facility_id: str, zone_id: str, bay_id: str) -> str:
    """The key of one on-street bay ("FAC-001/Z-1/B-7")."""
    return f"{facility_id}/{zone_id}/{bay_id}"


class OccupancyTracker:
    """Keeps live counts per facility and zone and opens / resolves capacity alerts.

    Events are assumed de-duplicated by the caller: an entry delivered twice counts twice.
    """

    def __init__(
        self,
        counts: MutableMapping[str, int],
        bays: MutableMapping[str, bool],
        open_alerts: MutableMapping[str, AlertRecord],
        capacities: Mapping[str, int],
        *,
        near_ratio: float = DEFAULT_NEAR_RATIO,
    ) -> None:
        self.counts = counts
        self.bays = bays
        self.open_alerts = open_alerts
        self.capacities = capacities
        self.near_ratio = near_ratio
        #: The newest event time counted (None before the first event, and after a restart).
        self.newest: datetime | None = None

    def on_event(self, event: EventBase) -> list[AlertRecord]:
        """Apply one event; returns the capacity alerts it opened or resolved.

        Entries, exits, bay statuses and count readings change a count; any other
        event is ignored and returns [].
        """
        self._observe(event.ts)
        if isinstance(event, EntryEvent | ExitEvent):
            subject = subject_key(event.facility_id)
            step = 1 if isinstance(event, EntryEvent) else -1
            self.counts[subject] = self.counts.get(subject, 0) + step
        elif isinstance(event, OccupancyCountEvent):
            # a counting system may report one zone of a facility (zone_id) or all of it
            subject = subject_key(event.facility_id, event.zone_id)
            self.counts[subject] = event.occupied
        elif isinstance(event, BayStatusEvent):
            subject = subject_key(event.facility_id, event.zone_id)
            if not self._set_bay(event):
                return []
        else:
            return []
        return self._check_capacity(subject, event.facility_id, event.ts)

    def on_inside(self, facility_id: str, delta: int, ts: datetime) -> list[AlertRecord]:
        """Apply a session matcher's correction of a gated facility's vehicles inside (a
        missed exit or entry, `streaming.rules.sessions.InsideCorrection`); its alerts."""
        self._observe(ts)
        subject = subject_key(facility_id)
        self.counts[subject] = self.counts.get(subject, 0) + delta
        return self._check_capacity(subject, facility_id, ts)

    def snapshot(self) -> list[OccupancyRow]:
        """Every counted facility and zone with its count, capacity and rate, by key."""
        return [self._row(subject) for subject in sorted(self.counts)]

    # --- helpers ---------------------------------------------------------------------------

    def _observe(self, ts: datetime) -> None:
        if self.newest is None or ts > self.newest:
            self.newest = ts

    def _set_bay(self, event: BayStatusEvent) -> bool:
        """Record a bay's status and adjust its zone's count; False when nothing changed."""
        key = bay_key(event.facility_id, event.zone_id, event.bay_id)
        subject = subject_key(event.facility_id, event.zone_id)
        was_occupied = self.bays.get(key)
        if was_occupied == event.occupied:
            return False
        self.bays[key] = event.occupied
        # a bay first seen free adds a bay to the zone but nothing to its count
        step = 1 if event.occupied else (-1 if was_occupied else 0)
        self.counts[subject] = self.counts.get(subject, 0) + step
        return True

    def _capacity(self, subject: str) -> int | None:
        capacity = self.capacities.get(subject)
        return capacity if capacity and capacity > 0 else None

    def _check_capacity(self, subject: str, facility_id: str, ts: datetime) -> list[AlertRecord]:
        """Open or resolve NEAR_CAPACITY and FULL after a change of the subject's count."""
        capacity = self._capacity(subject)
        if capacity is None:
            return []
        occupied = self.counts[subject]
        ratio = occupied / capacity
        # floor, not round: a subject one vehicle short of full never reads "100%"
        detail = f"{subject} at {occupied}/{capacity} ({occupied * 100 // capacity}%)"
        breaches = {
            AlertType.NEAR_CAPACITY: ratio >= self.near_ratio,
            AlertType.FULL: occupied >= capacity,
        }
        changes: list[AlertRecord] = []
        for alert_type, breached in breaches.items():
            key = alert_key(subject, alert_type)
            if breached and key not in self.open_alerts:
                alert = open_alert(
                    alert_type,
                    SEVERITY[alert_type],
                    facility_id=facility_id,
                    subject_id=subject,
                    opened_at=ts,
                    ts=ts,
                    value=ratio,
                    detail=detail,
                )
                self.open_alerts[key] = alert
                changes.append(alert)
            elif not breached and key in self.open_alerts:
                changes.append(resolve_alert(self.open_alerts.pop(key), ts))
        return changes

    def _row(self, subject: str) -> OccupancyRow:
        facility_id, _, zone_id = subject.partition("/")
        occupied = self.counts[subject]
        capacity = self._capacity(subject)
        return OccupancyRow(
            facility_id=facility_id,
            zone_id=zone_id or None,
            occupied=occupied,
            capacity=capacity,
            occupancy_rate=None if capacity is None else occupied / capacity,
            flagged=occupied < 0 or (capacity is not None and occupied > capacity),
        )
