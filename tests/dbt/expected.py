"""What the marts should say, computed in plain Python from the lake files (not from dbt's SQL).

Each function follows the written metric definitions (ARCHITECTURE and the model
descriptions) on rows read with pyarrow, so a test that compares them with the warehouse
checks the SQL against an independent implementation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from parkflow.simulator.catalog import FACILITIES_BY_ID

HOUR = timedelta(hours=1)
Row = dict[str, Any]


def first_landing(rows: Iterable[Row], key: str) -> dict[str, Row]:
    """One row per id: the first landed (earliest ingested_at)."""
    kept: dict[str, Row] = {}
    for row in rows:
        held = kept.get(row[key])
        if held is None or row["ingested_at"] < held["ingested_at"]:
            kept[row[key]] = row
    return kept


def newest_version(rows: Iterable[Row], key: str) -> dict[str, Row]:
    """One row per id: the highest version."""
    kept: dict[str, Row] = {}
    for row in rows:
        held = kept.get(row[key])
        if held is None or row["version"] > held["version"]:
            kept[row[key]] = row
    return kept


def local_date(facility_id: str, ts: datetime) -> date:
    """The facility's local date of an instant."""
    return ts.astimezone(FACILITIES_BY_ID[facility_id].tz).date()


def floor_hour(ts: datetime) -> datetime:
    """The start of the UTC hour of `ts`."""
    return ts.replace(minute=0, second=0, microsecond=0)


# --- occupancy --------------------------------------------------------------------------------


def sweep(
    changes: dict[datetime, int],
    horizon: datetime,
    clip: int | None = None,
    flagged: dict[datetime, bool] | None = None,
) -> dict[datetime, tuple[float, float, int | None]]:
    """Per UTC hour: (observed seconds, vehicle-seconds, peak) of a count that moves by
    `changes` (net change per instant), from its first change to `horizon`. Time under a
    flagged reading (`flagged`: the flag of each reading's instant, held until the next) is
    left out; an hour wholly under one is (0, 0, None)."""
    if not changes:
        return {}
    first = min(changes)
    boundaries = []
    hour = floor_hour(first)
    while hour <= horizon:
        boundaries.append(hour)
        hour += HOUR
    points = sorted(set(changes) | set(boundaries))
    hours: dict[datetime, list] = {}
    level, is_flagged = 0, False
    for index, instant in enumerate(points):
        level += changes.get(instant, 0)
        is_flagged = (flagged or {}).get(instant, is_flagged)
        if instant < first or instant > horizon:
            continue
        end = points[index + 1] if index + 1 < len(points) else horizon
        seconds = (min(end, horizon) - instant).total_seconds()
        value = min(level, clip) if clip is not None else level
        observed, occupied, peak, total = hours.get(floor_hour(instant), (0.0, 0.0, None, 0.0))
        if not is_flagged:
            observed, occupied = observed + seconds, occupied + value * seconds
            peak = value if peak is None else max(peak, value)
        hours[floor_hour(instant)] = [observed, occupied, peak, total + seconds]
    return {h: (o, v, None if p is None else int(p)) for h, (o, v, p, t) in hours.items() if t > 0}


def interval_changes(intervals: Iterable[tuple[datetime, datetime | None]]) -> dict[datetime, int]:
    """+1 at each start, -1 at each end (an open interval has no end)."""
    changes: dict[datetime, int] = defaultdict(int)
    for start, end in intervals:
        changes[start] += 1
        if end is not None:
            changes[end] -= 1
    return dict(changes)


def gated_intervals(sessions: Iterable[Row], facility_id: str) -> list[tuple[datetime, Any]]:
    """[entry, exit) of CLOSED and [entry, open) of OPEN sessions; ABANDONED left out."""
    return [
        (s["entry_ts"], s["exit_ts"] if s["status"] == "CLOSED" else None)
        for s in sessions
        if s["facility_id"] == facility_id and s["status"] in ("OPEN", "CLOSED")
    ]


def bay_stays(events: Iterable[Row]) -> dict[tuple[str, str], list[tuple[datetime, Any]]]:
    """(zone, bay) -> its stays [turned occupied, next report of free); at one instant a
    "free" report comes first (a car leaving as the next one parks)."""
    reports: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for event in events:
        if event["event_type"] == "bay_status":
            reports[(event["zone_id"], event["bay_id"])].append(event)
    stays: dict[tuple[str, str], list[tuple[datetime, Any]]] = {}
    for bay, rows in reports.items():
        rows.sort(key=lambda r: (r["ts"], r["bay_occupied"], r["event_id"]))  # free first
        found, start, state = [], None, None
        for row in rows:
            if row["bay_occupied"] == state:
                continue
            state = row["bay_occupied"]
            if state:
                start = row["ts"]
            elif start is not None:
                found.append((start, row["ts"]))
                start = None
        if start is not None:
            found.append((start, None))
        stays[bay] = found
    return stays


def count_readings(events: Iterable[Row], facility_id: str) -> list[Row]:
    """A facility's counting-system readings in time order."""
    return sorted(
        (
            e
            for e in events
            if e["event_type"] == "occupancy_count" and e["facility_id"] == facility_id
        ),
        key=lambda e: (e["ts"], e["event_id"]),
    )


def staleness() -> timedelta:
    """How long a reading (and a facility's data) is in effect: the dbt var `staleness_minutes`."""
    project = yaml.safe_load(
        (Path(__file__).parents[2] / "dbt_project" / "dbt_project.yml").read_text()
    )
    return timedelta(minutes=project["vars"]["staleness_minutes"])


def facility_horizon(events: Iterable[Row], facility_id: str, horizon: datetime) -> datetime:
    """The facility's own horizon: its newest event plus the staleness limit, at most `horizon`."""
    newest = max(e["ts"] for e in events if e["facility_id"] == facility_id)
    return min(newest + staleness(), horizon)


def _stale_at(readings: list[Row]) -> list[datetime]:
    """Where a reading goes stale before the next one (or the feed's end): a gap begins."""
    limit = staleness()
    ends = [r["ts"] for r in readings[1:]] + [None]
    return [
        r["ts"] + limit
        for r, following in zip(readings, ends, strict=True)
        if following is None or following > r["ts"] + limit
    ]


def count_changes(events: Iterable[Row], facility_id: str) -> dict[datetime, int]:
    """Counting-system readings as net changes (each reading holds until the next, for at most
    the staleness limit: then a zero change marks the gap, see `count_flags`)."""
    changes: dict[datetime, int] = defaultdict(int)
    previous = 0
    readings = count_readings(events, facility_id)
    for reading in readings:
        changes[reading["ts"]] += reading["occupied"] - previous
        previous = reading["occupied"]
    for gap in _stale_at(readings):
        changes[gap] += 0
    return dict(changes)


def count_flags(events: Iterable[Row], facility_id: str, capacity: int) -> dict[datetime, bool]:
    """Instant -> excluded from then on: a reading flagged by its device, below zero or above
    `capacity` (or not), and the start of each gap (True)."""
    readings = count_readings(events, facility_id)
    flags = {
        r["ts"]: bool(r["flags"]) or r["occupied"] < 0 or r["occupied"] > capacity for r in readings
    }
    return {**flags, **dict.fromkeys(_stale_at(readings), True)}


# --- money ------------------------------------------------------------------------------------


def revenue(events: Iterable[Row]) -> dict[tuple[str, date, str], Decimal]:
    """(facility, local date, method) -> COMPLETED - REFUNDED, negative amounts left out."""
    totals: dict[tuple[str, date, str], Decimal] = defaultdict(Decimal)
    for event in events:
        if event["event_type"] != "payment" or event["amount"] < 0:
            continue
        sign = {"COMPLETED": 1, "REFUNDED": -1}.get(event["status"], 0)
        key = (event["facility_id"], local_date(event["facility_id"], event["ts"]), event["method"])
        totals[key] += sign * event["amount"]
    return dict(totals)


def amount_due(facility_id: str, duration_s: int) -> Decimal:
    """The tariff of the facility (parkflow.tariff, what the simulator charges)."""
    return FACILITIES_BY_ID[facility_id].tariff.amount_due(timedelta(seconds=duration_s))


# --- devices ----------------------------------------------------------------------------------


def health_scores(
    events: Iterable[Row], alerts: Iterable[Row], horizon: datetime
) -> dict[str, tuple[int, str]]:
    """device -> (health score, status) at `horizon`, from telemetry and the newest alert rows."""
    last_seen: dict[str, Row] = {}
    for event in events:
        if event["event_type"] == "telemetry":
            held = last_seen.get(event["device_id"])
            if held is None or event["ts"] > held["ts"]:
                last_seen[event["device_id"]] = event
    open_by_device: dict[str, list[Row]] = defaultdict(list)
    for alert in newest_version(alerts, "alert_id").values():
        if alert["state"] == "OPEN" and alert["alert_type"] in (
            "OFFLINE",
            "HIGH_POWER",
            "INVALID_DATA",
        ):
            open_by_device[alert["subject_id"]].append(alert)
    scores = {}
    for device, event in last_seen.items():
        sensor = event["source"] == "baynode"
        silent = (horizon - event["ts"]).total_seconds()
        stale = silent >= (3 * 3600 if sensor else 300)
        offline_after = 3 * 3600 if sensor else 120
        alerts_open = open_by_device[device]
        score = max(0, min(100, 100 - 10 * len(alerts_open) - (30 if stale else 0)))
        severities = {a["severity"] for a in alerts_open}
        if any(a["alert_type"] == "OFFLINE" for a in alerts_open) or silent >= offline_after:
            status = "OFFLINE"
        elif "CRITICAL" in severities:
            status = "CRITICAL"
        elif severities:
            status = "WARNING"
        else:
            status = "OK"
        scores[device] = (score, status)
    return scores
