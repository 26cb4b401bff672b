"""What the marts must say about the fixture feeds, computed with pandas from the raw files.

Independent of dbt and of the plugins: each function reads a vendor file as a person would
(pandas, the vendor's documented format), applies the metric definitions of
docs/architecture.md and returns the rows a mart must hold. Used by test_real_feeds.py.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

STALENESS = timedelta(minutes=60)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Segment:
    """A level (vehicles inside) in effect from `start` to `end`; flagged ones are no data."""

    start: datetime
    end: datetime
    level: int
    flagged: bool


def hourly(segments: list[Segment], first: datetime, horizon: datetime) -> pd.DataFrame:
    """Per UTC hour from `first`'s hour to `horizon`'s: the mart_occupancy_hourly figures."""
    rows = []
    hour = first.replace(minute=0, second=0, microsecond=0)
    while hour < horizon:
        end = min(hour + HOUR, horizon)
        observed = flagged = occupied = 0.0
        peak = None
        for s in segments:
            overlap = (min(s.end, end) - max(s.start, hour)).total_seconds()
            if overlap <= 0:
                continue
            if s.flagged:
                flagged += overlap
            else:
                observed += overlap
                occupied += s.level * overlap
                peak = s.level if peak is None else max(peak, s.level)
        if observed + flagged > 0:
            rows.append(
                {
                    "hour_start_utc": hour,
                    "observed_seconds": observed,
                    "flagged_seconds": flagged,
                    "occupied_seconds": occupied,
                    "avg_occupied": occupied / observed if observed else None,
                    "peak_occupied": peak,
                }
            )
        hour += HOUR
    return pd.DataFrame(rows)


# --- (a) the counting feed ---------------------------------------------------------------


def counting_hourly(path: Path, zone: str, capacity_from: dict[date, int]) -> pd.DataFrame:
    """mart_occupancy_hourly of a counted facility from a CityCount file.

    A reading holds until the next one, for at most STALENESS (then a gap: no data). It is
    flagged when below zero or above the spaces in force on its local day (or above the
    capacity it reports itself); flagged time is left out of the rates. The series ends at
    the newest reading + STALENESS.
    """
    tz = ZoneInfo(zone)
    raw = pd.read_csv(path, skipinitialspace=True)
    raw = raw.drop_duplicates(subset=["carpark_id", "last_update"])
    raw["ts"] = [
        datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)
        for text in raw["last_update"]
    ]
    raw = raw.sort_values("ts").reset_index(drop=True)

    def spaces(moment: datetime) -> int:
        day = moment.astimezone(tz).date()
        return capacity_from[max(d for d in capacity_from if d <= day)]

    raw["flagged"] = [
        occupied < 0 or occupied > spaces(ts) or occupied > reported
        for occupied, ts, reported in zip(raw["occupied"], raw["ts"], raw["capacity"], strict=True)
    ]
    horizon = raw["ts"].max() + STALENESS
    segments = []
    times = list(raw["ts"])
    for i, row in raw.iterrows():
        following = times[i + 1] if i + 1 < len(times) else horizon
        held_until = min(following, row["ts"] + STALENESS)
        segments.append(Segment(row["ts"], held_until, int(row["occupied"]), bool(row["flagged"])))
        if following > held_until:  # a silence longer than the staleness limit: a gap
            segments.append(Segment(held_until, following, 0, True))
    hours = hourly(segments, times[0], horizon)
    hour_of = raw["ts"].map(lambda ts: ts.replace(minute=0, second=0, microsecond=0))
    readings = raw.groupby(hour_of).agg(
        readings=("ts", "size"), flagged_readings=("flagged", "sum")
    )
    hours = hours.merge(readings, left_on="hour_start_utc", right_index=True, how="left")
    hours[["readings", "flagged_readings"]] = hours[["readings", "flagged_readings"]].fillna(0)
    hours["capacity"] = hours["hour_start_utc"].map(spaces)
    hours["occupancy_rate"] = hours["avg_occupied"] / hours["capacity"]
    return hours


# --- (b) the meter feed ------------------------------------------------------------------

_PAYMASTER_METHODS = {"CC": "CREDIT_CARD", "DC": "DEBIT_CARD", "MP": "MOBILE_PAYMENT",
                      "CA": "CASH", "OT": "OTHER"}  # fmt: skip
_FAILED = {"KO", "DE", "CN", "NP", "ER"}


def meter_revenue(path: Path) -> pd.DataFrame:
    """mart_revenue_daily's revenue columns of a PayMaster file, per local day and method.

    Lines whose time does not read are dead letters; a re-sent transaction counts once.
    A split payment counts in each part's method and once in ALL; MNT/DIA/TST are no
    revenue, counted in ALL's non_revenue_transactions.
    """
    raw = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    raw["local"] = pd.to_datetime(raw["local_time"], format="%d.%m.%Y %H:%M:%S", errors="coerce")
    raw = raw[raw["local"].notna()].drop_duplicates(subset=["terminal", "txn_no"])
    raw["local_date"] = raw["local"].dt.date
    raw["amount"] = raw["amount_cents"].map(lambda cents: Decimal(int(cents)).scaleb(-2))
    raw["revenue_kind"] = raw["record"].isin(["PAY", "REF"])
    rows = []
    for (day,), group in raw.groupby(["local_date"]):
        revenue = group[group["revenue_kind"]]
        completed = revenue[(revenue["record"] == "PAY") & (revenue["status"] == "OK")]
        refunded = revenue[revenue["record"] == "REF"]
        rows.append(
            {
                "local_date": day,
                "payment_method": "ALL",
                "gross_revenue": sum(completed["amount"], Decimal("0.00")),
                "refunds": sum(refunded["amount"], Decimal("0.00")),
                "transactions": len(completed),
                "refund_transactions": len(refunded),
                "failed_transactions": int(revenue["status"].isin(_FAILED).sum()),
                "non_revenue_transactions": int((~group["revenue_kind"]).sum()),
            }
        )
        parts = []  # (method, amount, kind) of each part of each revenue transaction
        for _, row in revenue.iterrows():
            kind = "refund" if row["record"] == "REF" else row["status"]
            if "+" in row["method"]:
                for part in row["method"].split("+"):
                    code, cents = part.split(":")
                    parts.append((_PAYMASTER_METHODS[code], Decimal(int(cents)).scaleb(-2), kind))
            else:
                parts.append((_PAYMASTER_METHODS[row["method"]], row["amount"], kind))
        for method in sorted({method for method, _, _ in parts}):
            mine = [(amount, kind) for m, amount, kind in parts if m == method]
            rows.append(
                {
                    "local_date": day,
                    "payment_method": method,
                    "gross_revenue": sum((a for a, k in mine if k == "OK"), Decimal("0.00")),
                    "refunds": sum((a for a, k in mine if k == "refund"), Decimal("0.00")),
                    "transactions": sum(1 for _, k in mine if k == "OK"),
                    "refund_transactions": sum(1 for _, k in mine if k == "refund"),
                    "failed_transactions": sum(1 for _, k in mine if k in _FAILED),
                    "non_revenue_transactions": None,
                }
            )
    frame = pd.DataFrame(rows)
    frame["revenue"] = frame["gross_revenue"] - frame["refunds"]
    return frame


# --- (c) the on-street sensor feed -------------------------------------------------------

#: The signs of the fixture, read by hand: (minutes, days (ISO), window start, window end).
SIGNS = {"2P MTR M-SAT 7:30-20:30": (120, range(1, 7), "07:30", "20:30")}


@dataclass(frozen=True)
class Stay:
    """One vehicle in one bay."""

    zone: str
    bay: str
    start: datetime
    end: datetime | None
    overstay: bool


def _instant(text: str, tz: ZoneInfo, *, after: datetime | None = None) -> datetime:
    """A local time as UTC: the earlier instant in a DST overlap, unless that is not `after`."""
    naive = datetime.fromisoformat(text)
    moment = naive.replace(tzinfo=tz).astimezone(UTC)
    if after is not None and moment <= after:
        moment = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return moment


def on_street_stays(
    path: Path, zone_name: str, windows: dict[str, tuple[int, str, str]], horizon_slack=STALENESS
) -> tuple[list[Stay], datetime]:
    """The stays of a bay-log file and the facility's horizon (newest time + staleness).

    The limit of a stay: the sign it reports, if in force at the arrival (until the window's
    end), else the estate's daily window of its zone (`windows`: minutes, from, to), else none.
    The vendor's verdict, where given, decides.
    """
    tz = ZoneInfo(zone_name)
    stays, newest = [], None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["sign"] and row["sign"] not in SIGNS:
                continue  # an unreadable sign: the payload is a dead letter
            start = _instant(row["arrival_time"], tz)
            leaving = row["departure_time"]
            end = _instant(leaving, tz, after=start) if leaving else None
            if end is not None and end <= start:
                continue  # departure before arrival: a dead letter
            newest = max(t for t in (newest, start, end) if t is not None)
            local = start.astimezone(tz)
            limit = until = None
            if row["sign"]:
                minutes, days, begin, finish = SIGNS[row["sign"]]
                if local.isoweekday() in days and begin <= local.strftime("%H:%M") < finish:
                    limit = minutes
                    until = _instant(f"{local.date()} {finish}:00", tz)
            elif row["zone"] in windows:
                minutes, begin, finish = windows[row["zone"]]
                if begin <= local.strftime("%H:%M") < finish:
                    limit = minutes
                    until = _instant(f"{local.date()} {finish}:00", tz)
            stays.append((row, start, end, limit, until))
    horizon = newest + horizon_slack
    unique = {}
    for row, start, end, limit, until in stays:
        judged = None
        if row["in_violation"]:
            judged = row["in_violation"].lower() == "true"
        elif limit is not None:
            judged = (min(end or horizon, until or horizon) - start) > timedelta(minutes=limit)
        unique[(row["bay"], start)] = Stay(row["zone"], row["bay"], start, end, bool(judged))
    return list(unique.values()), horizon


def on_street_hourly(stays: list[Stay], horizon: datetime) -> pd.DataFrame:
    """mart_occupancy_hourly of the stays of one subject (a zone, or the whole facility).

    Every second from the subject's first stay to the horizon is observed (a bay without a
    vehicle is free); a stay still going counts until the horizon.
    """
    first = min(s.start for s in stays)

    def inside(moment: datetime) -> int:
        return sum(1 for s in stays if s.start <= moment < (s.end or horizon))

    rows = []
    hour = first.replace(minute=0, second=0, microsecond=0)
    while hour < horizon:
        begin, end = max(hour, first), min(hour + HOUR, horizon)
        occupied = sum(
            max(0.0, (min(s.end or horizon, end) - max(s.start, begin)).total_seconds())
            for s in stays
        )
        changes = [t for s in stays for t in (s.start, s.end) if t and begin <= t < end]
        observed = (end - begin).total_seconds()
        started = [s for s in stays if hour <= s.start < hour + HOUR]
        rows.append(
            {
                "hour_start_utc": hour,
                "observed_seconds": observed,
                "flagged_seconds": 0.0,
                "occupied_seconds": occupied,
                "avg_occupied": occupied / observed,
                "peak_occupied": max(inside(t) for t in [begin, *changes]),
                "entries": len(started),
                "exits": sum(1 for s in stays if s.end and hour <= s.end < hour + HOUR),
                "overstays": sum(1 for s in started if s.overstay),
            }
        )
        hour += HOUR
    return pd.DataFrame(rows)
