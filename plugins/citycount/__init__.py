"""CityCount car-park counting systems: CSV rows of vehicles inside and capacity.

A payload is one or more CSV rows (comma-separated, standard CSV quoting, LF or
CRLF), one reading per car park. An optional header row, exactly this one, may
come first; blank lines are ignored::

    carpark_id,name,last_update,occupied,capacity,state
    FAC-003,"Centrum, Parkeergarage Noord",2026-11-20 08:05:00,412,600,open
    FAC-004,Stationsplein,2026-11-20 08:05,-3,350,
    FAC-005,P+R Zuid,2026-11-20 08:04:30,0,,closed

- `carpark_id` -> facility_id; the counting system is device `<carpark_id>-CNT`.
- `name`: free text (quote it when it contains commas); not mapped.
  Spaces after a comma are ignored.
- `last_update`: local wall-clock time `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD HH:MM`
  WITHOUT an offset, as these feeds publish it. It is read in the plugin's time
  zone: `time_zone` (Europe/Amsterdam), overridden by the environment variable
  PARKFLOW_CITYCOUNT_TZ (an IANA name) when the plugin is created. During the
  autumn DST overlap the earlier of the two instants is taken, so readings of
  the repeated hour get the time (and event id) of the hour before.
- `occupied`: vehicles inside, a whole number. Counting loops drift, so values
  below zero or above capacity are kept; the event flags them NEGATIVE_COUNT /
  ABOVE_CAPACITY.
- `capacity`: a positive whole number, or empty when the feed does not know it.
- `state`: `open`, `full`, `closed` (any case) or empty; checked, not mapped.

The event id is derived from the car park and the reading time, so the duplicate
rows these feeds often repeat get the same id and are deduplicated downstream.
One bad row rejects the whole payload: the reason names its line number. At most
10,000 lines per payload.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, tzinfo
from typing import ClassVar
from zoneinfo import ZoneInfo

from parkflow.events import CanonicalEvent, EventType, OccupancyCountEvent
from parkflow.sdk import (
    PayloadError,
    SourcePlugin,
    build_event,
    local_time,
    make_event_id,
    parse_csv_rows,
    zone_info,
)

HEADER = ["carpark_id", "name", "last_update", "occupied", "capacity", "state"]
_HEADER_TEXT = ",".join(HEADER)
#: Environment variable naming the IANA time zone of the feed's local times.
TZ_ENV_VAR = "PARKFLOW_CITYCOUNT_TZ"
MAX_LINES = 10_000
_STATES = frozenset({"open", "full", "closed", ""})
_MAX_COUNT_DIGITS = 9
SECONDS_FORMAT = "%Y-%m-%d %H:%M:%S"
MINUTES_FORMAT = "%Y-%m-%d %H:%M"
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)(?::(\d\d))?", re.ASCII)


def _count(text: str, column: str, *, positive: bool) -> int:
    """A whole number: negative allowed for `occupied`, positive only for `capacity`."""
    digits = text[1:] if text.startswith("-") and not positive else text
    if 0 < len(digits) <= _MAX_COUNT_DIGITS and digits.isascii() and digits.isdigit():
        number = int(text)
        if number > 0 or not positive:
            return number
    if not text:
        raise PayloadError(f"{column} is empty")
    if len(digits) > _MAX_COUNT_DIGITS and digits.isascii() and digits.isdigit():
        raise PayloadError(f"{column} has more than {_MAX_COUNT_DIGITS} digits")
    kind = "a positive whole number or empty" if positive else "a whole number"
    raise PayloadError(f"{column} must be {kind}, got {text[:40]!r}")


def _wall_clock_text(moment: datetime) -> str:
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


class CityCountPlugin(SourcePlugin):
    """Occupancy counts (vehicles inside, capacity) from CityCount car-park feeds."""

    name = "citycount"
    vendor = "CityCount"
    content_type = "text/csv"
    header_line = _HEADER_TEXT
    description = (
        "City car-park counting systems publishing vehicles inside and capacity every few minutes."
    )
    simulates = frozenset({EventType.OCCUPANCY_COUNT})
    #: IANA time zone of `last_update` unless PARKFLOW_CITYCOUNT_TZ names another.
    time_zone: ClassVar[str] = "Europe/Amsterdam"

    def __init__(self, time_zone: str | None = None) -> None:
        """Read local times in `time_zone`, else $PARKFLOW_CITYCOUNT_TZ, else `time_zone`."""
        name = time_zone or os.environ.get(TZ_ENV_VAR, "").strip() or type(self).time_zone
        try:
            self.tz: ZoneInfo = zone_info(name)
        except (PayloadError, OSError):
            raise ValueError(
                f"unknown time zone {name[:64]!r} for CityCount local times; set {TZ_ENV_VAR} "
                "to an IANA name such as Europe/Amsterdam"
            ) from None

    def parse(self, payload: bytes) -> list[CanonicalEvent]:
        """CSV rows of counts -> occupancy count events (one bad row rejects them all)."""
        return parse_csv_rows(payload, self._event, header=HEADER, max_lines=MAX_LINES)

    def _event(self, row: list[str]) -> OccupancyCountEvent:
        """One CSV row -> an occupancy count event."""
        if len(row) != len(HEADER):
            if row and row[0] == HEADER[0]:
                raise PayloadError(f"a header row must be exactly {_HEADER_TEXT!r} and come first")
            if len(row) == 1 and ";" in row[0]:
                raise PayloadError(
                    "fields are separated by ';'; CityCount rows are comma-separated"
                )
            raise PayloadError(
                f"expected {len(HEADER)} comma-separated fields ({_HEADER_TEXT}), got "
                f"{len(row)}; quote names that contain commas"
            )
        carpark_id, _name, last_update, occupied, capacity, state = row
        if carpark_id == HEADER[0]:
            raise PayloadError(f"a header row must be exactly {_HEADER_TEXT!r} and come first")
        if not carpark_id:
            raise PayloadError("carpark_id is empty")
        if state not in _STATES and state.lower() not in _STATES:
            raise PayloadError(f"state must be open, full, closed or empty, got {state[:20]!r}")
        ts = self._time(last_update)
        return build_event(
            OccupancyCountEvent,
            event_id=make_event_id(self.name, carpark_id, ts.isoformat()),
            facility_id=carpark_id,
            device_id=f"{carpark_id}-CNT",
            ts=ts,
            source=self.name,
            occupied=_count(occupied, "occupied", positive=False),
            capacity=_count(capacity, "capacity", positive=True) if capacity else None,
            zone_id=None,
        )

    def _time(self, text: str) -> datetime:
        """`last_update` (local wall clock in the plugin's zone) as UTC.

        The exact formats are read by a regex (`local_time`'s strptime costs ~7 us);
        anything else goes through `local_time`, which is also what the fast path equals.
        """
        moment = None
        match = _TIME.fullmatch(text)
        if match is not None:
            year, month, day, hour, minute, second = map(int, match.groups("0"))
            with suppress(ValueError):  # e.g. 02-30: local_time below words the reason
                moment = datetime(year, month, day, hour, minute, second, tzinfo=self.tz)
        if moment is None:
            fmt = SECONDS_FORMAT if text.count(":") >= 2 else MINUTES_FORMAT
            try:
                moment = local_time(text, fmt, self.tz)
            except PayloadError:
                raise PayloadError(
                    "last_update must be a local time 'YYYY-MM-DD HH:MM:SS' (or without "
                    f"seconds), got {text[:40]!r}"
                ) from None
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise PayloadError(
                f"last_update {text[:40]!r} is out of the supported date range"
            ) from None

    def simulate(self, events: Sequence[CanonicalEvent], tz: tzinfo = UTC) -> bytes:
        """Render counts as feed rows: one per event, no header, name = car park id.

        `tz` is ignored: times are written in the plugin's own time zone, the one
        `parse` reads them in. `state` is derived (full when occupied >= capacity,
        else open); device_id, zone_id and sub-second precision are not carried.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for event in events:
            if not isinstance(event, OccupancyCountEvent):
                raise ValueError(f"CityCount feeds carry only counts, not {event.event_type}")
            capacity = event.capacity
            full = capacity is not None and event.occupied >= capacity
            writer.writerow(
                (
                    event.facility_id,
                    event.facility_id,
                    _wall_clock_text(event.ts.astimezone(self.tz)),
                    event.occupied,
                    "" if capacity is None else capacity,
                    "full" if full else "open",
                )
            )
        return buffer.getvalue().encode()
