"""BayLog: on-street bay sensor histories as city open-data portals publish them.

Shaped like Melbourne's "On-street car park bay sensors" export: a payload is a CSV
file (comma-separated, standard CSV quoting, LF or CRLF), one row per stay of a
vehicle in a bay. An optional header row, exactly this one, may come first (a file
sent one row per payload, as `parkflow import` and `replay` read files, has it only in
its first payload); blank lines are ignored::

    device_id,facility,zone,bay,arrival_time,departure_time,tz,sign,in_violation
    S-4711,CBD,Queen St,Bay 12,2026-04-04 09:12:30,2026-04-04 11:30:05,Australia/Melbourne,2P,true
    S-4712,CBD,Queen St,Bay 13,2026-04-04 10:02:00,,Australia/Melbourne,1/2P M-F 7:30-18:30,
    S-4713,CBD,Queen St,Bay 14,2026-04-05 02:40:00,2026-04-05 02:10:00,Australia/Melbourne,,

- `device_id` -> device_id (the sensor); `facility`, `zone`, `bay` -> facility_id,
  zone_id, bay_id. Ids may contain inner spaces ("Bay 12"), not leading or trailing ones.
- `arrival_time`, `departure_time`: local wall-clock `YYYY-MM-DD HH:MM:SS` in the IANA
  time zone `tz` (e.g. Australia/Melbourne). In the autumn DST overlap a time is read as
  the earlier of its two instants; when the departure then is not after the arrival, it
  is read as the later one (a stay from 02:40 to 02:10 the second time round: 30 min).
  A departure still not after its arrival is an error. A stay that lasts from before the
  repeated hour into its second round (01:50 to 02:20 the second time) cannot be told
  from a shorter one in this format: it is read as the shorter one (01:50 to 02:20 the
  first time). `departure_time` is empty for a stay still going at export time.
- `sign`: the restriction sign on the bay, Melbourne style, or empty (no restriction)::

      2P MTR M-SAT 7:30-20:30    1/2P M-F 7:30-18:30    4P SAT-SUN 7:30-18:30
      P5 M-SUN 0:00-23:59        1P                     2P TKT M-F 7:30AM-6:30PM

  A duration (`<n>P` n hours, `1/2P` 30 min, `1/4P` 15 min, `P<n>` n minutes), then
  words that do not matter (MTR, TKT, DISC, METER, ...: letters only, no day name), then
  optionally the days (`M-F`, `M-SAT`, `SAT-SUN`, `SUN`, `MON-FRI`, ...; days are M/MON,
  T/TUE, W/WED, TH/THU, F/FRI, SAT, SUN, or full names), then optionally a daily window
  `H:MM-H:MM` (24 h, or `7:30AM-6:30PM`). No days: every day; no window: all day. The
  restriction in force at the arrival's local time goes on the arrival event: inside the
  window on a listed day, `max_stay_minutes` is the duration and `restricted_until` the
  window's end that day (none without a window); outside it (a Sunday under M-SAT, 21:00
  under 7:30-20:30) the arrival carries no restriction. An unreadable sign is an error.
- `in_violation`: the vendor's verdict on the stay, `true`/`false` (also `1`/`0`,
  `Y`/`N`, any case) or empty (no verdict). It goes on the departure event, or on the
  arrival event of a stay still going.

Each row gives a `BayStatusEvent` occupied at the arrival and one free at the departure.
Event ids are derived from the sensor, the arrival instant and arrival/departure, so a
re-sent export keeps its ids. One bad row rejects the whole payload: the reason names
its line number. At most 10,000 lines per payload.
"""

from __future__ import annotations

import functools
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from parkflow.events import BayStatusEvent, CanonicalEvent
from parkflow.sdk import (
    PayloadError,
    SourcePlugin,
    build_event,
    local_time,
    make_event_id,
    parse_csv_rows,
    zone_info,
)

HEADER = [
    "device_id",
    "facility",
    "zone",
    "bay",
    "arrival_time",
    "departure_time",
    "tz",
    "sign",
    "in_violation",
]
_HEADER_TEXT = ",".join(HEADER)
MAX_LINES = 10_000
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SIGN_EXAMPLE = "2P MTR M-SAT 7:30-20:30"
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)", re.ASCII)
_WINDOW = re.compile(r"(\d{1,2}):(\d\d)(AM|PM)?-(\d{1,2}):(\d\d)(AM|PM)?", re.ASCII)
_MAX_STAY_MINUTES = 7 * 24 * 60  # the canonical limit
_DAYS = {
    **dict.fromkeys(("M", "MON", "MONDAY"), 0),
    **dict.fromkeys(("T", "TUE", "TUES", "TUESDAY"), 1),
    **dict.fromkeys(("W", "WED", "WEDNESDAY"), 2),
    **dict.fromkeys(("TH", "THU", "THUR", "THURS", "THURSDAY"), 3),
    **dict.fromkeys(("F", "FRI", "FRIDAY"), 4),
    **dict.fromkeys(("SAT", "SATURDAY"), 5),
    **dict.fromkeys(("SUN", "SUNDAY"), 6),
}
_EVERY_DAY = frozenset(range(7))
_VERDICTS = {"true": True, "1": True, "y": True, "false": False, "0": False, "n": False, "": None}


@dataclass(frozen=True, slots=True)
class Sign:
    """A restriction sign: a maximum stay on some weekdays (0 = Monday), in a daily window."""

    max_stay_minutes: int
    days: frozenset[int] = _EVERY_DAY
    start: time | None = None  # None: all day
    end: time | None = None

    def restriction_at(self, arrival: datetime) -> tuple[int, datetime | None] | None:
        """(max_stay_minutes, restricted_until in UTC) in force at a local arrival, or None."""
        if arrival.weekday() not in self.days:
            return None
        if self.start is None or self.end is None:
            return self.max_stay_minutes, None
        if not self.start <= arrival.time() < self.end:
            return None
        until = datetime.combine(arrival.date(), self.end, tzinfo=arrival.tzinfo).astimezone(UTC)
        if until <= arrival.astimezone(UTC):  # an arrival in the spring-forward gap
            return None
        return self.max_stay_minutes, until


def _duration(token: str) -> int | None:
    """Minutes of a duration token (`2P`, `1/2P`, `1/4P`, `P5`), or None."""
    if token == "1/2P":
        return 30
    if token == "1/4P":
        return 15
    if token.startswith("P"):
        number, scale = token[1:], 1
    elif token.endswith("P"):
        number, scale = token[:-1], 60
    else:
        return None
    if not (0 < len(number) <= 5 and number.isascii() and number.isdigit()):
        return None
    minutes = int(number) * scale
    return minutes if 0 < minutes <= _MAX_STAY_MINUTES else None


def _days(token: str) -> frozenset[int] | None:
    """The weekdays of a day token (`SUN`, `M-SAT`, `MON-FRI`, `SAT-SUN`), or None."""
    first, dash, last = token.partition("-")
    start = _DAYS.get(first)
    if start is None:
        return None
    if not dash:
        return frozenset({start})
    stop = _DAYS.get(last)
    if stop is None:
        return None
    return frozenset((start + offset) % 7 for offset in range((stop - start) % 7 + 1))


def _clock(hours: str, minutes: str, half: str | None) -> time | None:
    """A time of day from `H`, `MM` and AM/PM (None: 24 h), or None when out of range."""
    hour, minute = int(hours), int(minutes)
    if minute > 59:
        return None
    if half is None:
        return time(hour, minute) if hour <= 23 else None
    if not 1 <= hour <= 12:
        return None
    return time(hour % 12 + (12 if half == "PM" else 0), minute)


def _window(token: str) -> tuple[time, time] | None:
    """The daily window of a `7:30-20:30` or `7:30AM-6:30PM` token, or None."""
    match = _WINDOW.fullmatch(token)
    if match is None:
        return None
    from_h, from_m, from_half, to_h, to_m, to_half = match.groups()
    if (from_half is None) != (to_half is None):
        return None
    start, end = _clock(from_h, from_m, from_half), _clock(to_h, to_m, to_half)
    if start is None or end is None or end <= start:  # windows past midnight: not on signs
        return None
    return start, end


@functools.lru_cache(maxsize=512)
def parse_sign(text: str) -> Sign | None:
    """A Melbourne-style sign (`2P MTR M-SAT 7:30-20:30`) -> `Sign`; empty -> None.

    Raises `PayloadError` for a sign that is not duration, words, days?, window?.
    """
    tokens = text.upper().split()
    if not tokens:
        return None
    minutes = _duration(tokens[0])
    days: frozenset[int] | None = None
    window: tuple[time, time] | None = None
    readable = minutes is not None
    for token in tokens[1:]:
        if not readable:
            break
        if window is not None:  # the window comes last
            readable = False
        elif (found := _days(token)) is not None:
            readable, days = days is None, found
        elif (found_window := _window(token)) is not None:
            window = found_window
        else:  # a word that does not matter, before the days
            readable = days is None and token.isascii() and token.isalpha()
    if not readable or minutes is None:
        raise PayloadError(f"sign {text[:40]!r} is not a restriction such as {SIGN_EXAMPLE!r}")
    start, end = window if window is not None else (None, None)
    return Sign(minutes, _EVERY_DAY if days is None else days, start, end)


def _zone(name: str) -> ZoneInfo:
    """The IANA zone of a `tz` field, or PayloadError."""
    if not name:
        raise PayloadError("tz is empty; give an IANA time zone such as Australia/Melbourne")
    return zone_info(name)


def _local(text: str, zone: ZoneInfo, column: str) -> datetime:
    """A `YYYY-MM-DD HH:MM:SS` wall-clock time in `zone` (the earlier instant in an overlap).

    The exact format is read by a regex (`local_time`'s strptime is slower); anything else
    goes through `local_time`, which is also what the fast path equals.
    """
    if not text:
        raise PayloadError(f"{column} is empty")
    match = _TIME.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second = map(int, match.groups())
        with suppress(ValueError):  # e.g. 02-30: local_time below words the reason
            return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    try:
        return local_time(text, TIME_FORMAT, zone)
    except PayloadError:
        raise PayloadError(
            f"{column} must be a local time 'YYYY-MM-DD HH:MM:SS', got {text[:40]!r}"
        ) from None


def _utc(moment: datetime, text: str, column: str) -> datetime:
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise PayloadError(f"{column} {text[:40]!r} is out of the supported date range") from None


def _verdict(text: str) -> bool | None:
    """`in_violation`: true/false, 1/0, Y/N (any case) or empty (None)."""
    key = text.lower()
    if key not in _VERDICTS:
        raise PayloadError(
            f"in_violation must be true, false, 1, 0, Y, N or empty, got {text[:20]!r}"
        )
    return _VERDICTS[key]


class BayLogPlugin(SourcePlugin):
    """Stays in on-street bays, from the sensor histories city open-data portals publish."""

    name = "baylog"
    vendor = "City open-data portals"
    content_type = "text/csv"
    header_line = _HEADER_TEXT
    description = (
        "On-street bay sensor histories (one CSV row per stay, with the bay's sign) as city "
        "open-data portals such as Melbourne's publish them."
    )

    def parse(self, payload: bytes) -> list[CanonicalEvent]:
        """A CSV export of stays -> arrival and departure events (one bad row rejects them all)."""
        return parse_csv_rows(payload, self._stay, header=HEADER, max_lines=MAX_LINES)

    def _stay(self, row: list[str]) -> list[BayStatusEvent]:
        """One stay row -> its arrival event and, when it has ended, its departure event."""
        if len(row) != len(HEADER):
            raise PayloadError(
                f"expected {len(HEADER)} comma-separated fields ({_HEADER_TEXT}), got "
                f"{len(row)}; quote fields that contain commas"
            )
        device, facility, zone, bay, arrival, departure, tz_name, sign_text, verdict_text = row
        for column, value in (("device_id", device), ("facility", facility), ("zone", zone)):
            if not value:
                raise PayloadError(f"{column} is empty")
        if not bay:
            raise PayloadError("bay is empty")
        tz = _zone(tz_name)
        arrived = _local(arrival, tz, "arrival_time")
        arrived_utc = _utc(arrived, arrival, "arrival_time")
        left_utc = None
        if departure:
            left = _local(departure, tz, "departure_time")
            left_utc = _utc(left, departure, "departure_time")
            if left_utc <= arrived_utc:  # in the DST overlap: the second round of the hour
                left_utc = _utc(left.replace(fold=1), departure, "departure_time")
            if left_utc <= arrived_utc:
                raise PayloadError(
                    f"departure_time {departure[:40]!r} is not after arrival_time {arrival[:40]!r}"
                )
        sign = parse_sign(sign_text)
        restriction = sign.restriction_at(arrived) if sign is not None else None
        max_stay, until = restriction if restriction is not None else (None, None)
        verdict = _verdict(verdict_text)
        common = {
            "facility_id": facility,
            "device_id": device,
            "source": self.name,
            "zone_id": zone,
            "bay_id": bay,
        }
        arrived_key = arrived_utc.isoformat()
        events = [
            build_event(
                BayStatusEvent,
                event_id=make_event_id(self.name, device, arrived_key, "arrival"),
                ts=arrived_utc,
                occupied=True,
                max_stay_minutes=max_stay,
                restricted_until=until,
                in_violation=verdict if left_utc is None else None,
                **common,
            )
        ]
        if left_utc is not None:
            events.append(
                build_event(
                    BayStatusEvent,
                    event_id=make_event_id(self.name, device, arrived_key, "departure"),
                    ts=left_utc,
                    occupied=False,
                    in_violation=verdict,
                    **common,
                )
            )
        return events
