"""VoltWatch power monitors: device telemetry in InfluxDB line protocol.

A payload is one or more lines (at most 10,000; LF or CRLF), one reading per line::

    # comment lines and blank lines are ignored
    power,site=FAC-001,device=FAC-001-GC-IN-1,kind=gate_controller voltage=229.8,current=1.42,power=326.3,temp=21.5 1795162503000000000

- measurement: always `power`.
- tags: `site` (facility) and `device` are required; `kind` (gate_controller,
  pay_station, ev_charger, camera, sensor, or anything else) is informational;
  other tags are ignored. Backslash escapes are not supported.
- fields: `voltage` and `current` are required; `power`, `temp` (degC),
  `battery` (%) and `rssi` (dBm) are optional; other fields are ignored. Values
  are floats (`229.8`, `-3`, `1.5e3`) or integers with the `i` suffix (`87i`).
- timestamp: required, integer nanoseconds since the Unix epoch (UTC); a value
  that would fall before 2000 is rejected as a unit mistake (seconds or ms).

Each line gives one `TelemetryEvent` (power is voltage x current when missing).
A bad line rejects the whole payload, with its line number (1-based, counting
comment and blank lines) in the reason.
"""  # noqa: E501 (the example line is one line of line protocol)

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from parkflow.events import CanonicalEvent, EventType, TelemetryEvent
from parkflow.sdk import PayloadError, SourcePlugin, build_event, decode_text, make_event_id

MEASUREMENT = "power"
MAX_LINES = 10_000
#: Optional fields and the TelemetryEvent attribute each maps to.
OPTIONAL_FIELDS = {"power": "power_w", "temp": "temperature_c", "battery": "battery_pct",
                   "rssi": "rssi_dbm"}  # fmt: skip
_FIELD_NAMES = {"voltage", "current", *OPTIONAL_FIELDS}
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+i")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_TIMESTAMP = re.compile(r"-?[0-9]{1,19}")
#: A field value: a quoted string (no escapes, may hold spaces and commas) or a bare token.
_FIELD = re.compile(r'([^=,"]*)=("[^"]*"|[^,"]*)(?:,|$)')
_INT64 = 2**63
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Timestamps before this (in ns) are seconds or milliseconds sent by mistake.
_MIN_TIMESTAMP_NS = 946_684_800 * 10**9  # 2000-01-01T00:00:00Z


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _number(line_no: int, key: str, value: str) -> float:
    """A field value as a finite float, or PayloadError naming the field and line."""
    if _FLOAT.fullmatch(value):
        number = float(value)
        if not math.isfinite(number):
            raise PayloadError(f"line {line_no}: field '{key}' is too large ({_short(value)})")
        return number
    if _INTEGER.fullmatch(value):
        integer = int(value[:-1])
        if not -_INT64 <= integer < _INT64:
            raise PayloadError(f"line {line_no}: field '{key}' is out of the 64-bit integer range")
        return float(integer)
    if _NON_FINITE.fullmatch(value):
        raise PayloadError(f"line {line_no}: field '{key}' is not a finite number (got {value})")
    raise PayloadError(
        f"line {line_no}: field '{key}' must be a number (float, or integer with suffix 'i'), "
        f"got {_short(value)}"
    )


def _pairs(line_no: int, what: str, items: list[str]) -> dict[str, str]:
    """`key=value` items as a dict; PayloadError on a malformed or repeated key."""
    try:
        pairs = dict(item.split("=", 1) for item in items)  # type: ignore[misc]
    except ValueError:  # an item without "=": find it for the reason
        pairs = {}
    if len(pairs) == len(items) and "" not in pairs:
        return pairs
    seen: set[str] = set()
    for item in items:
        key, sep, _ = item.partition("=")
        if not sep or not key:
            raise PayloadError(f"line {line_no}: {what} {_short(item)} is not key=value")
        if key in seen:
            raise PayloadError(f"line {line_no}: {what} {_short(key)} is given twice")
        seen.add(key)
    return pairs  # unreachable: the loop above found the problem


def _split_fields(line_no: int, text: str) -> dict[str, str]:
    """The field set as {key: raw value}."""
    if '"' not in text:
        return _pairs(line_no, "field", text.split(","))
    # a string field: its value may hold commas and spaces (no escapes)
    matches = [m.group(1, 2) for m in _FIELD.finditer(text)]
    if sum(len(key) + len(value) + 2 for key, value in matches) - 1 != len(text):
        raise PayloadError(f"line {line_no}: cannot read the field set {_short(text)}")
    return _pairs(line_no, "field", [f"{key}={value}" for key, value in matches])


def _split_line(line_no: int, line: str) -> tuple[str, str, str]:
    """(measurement and tags, fields, timestamp) of one line."""
    parts = line.split(" ")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if '"' in line and len(parts) > 3:  # spaces inside a quoted string field
        head, _, rest = line.partition(" ")
        fields, _, timestamp = rest.rpartition(" ")
        return head, fields, timestamp
    if len(parts) == 2 and "=" not in parts[1]:
        raise PayloadError(f"line {line_no}: missing fields (voltage=...,current=...)")
    if len(parts) == 2:
        raise PayloadError(
            f"line {line_no}: missing timestamp (integer nanoseconds since the Unix epoch)"
        )
    raise PayloadError(
        f"line {line_no}: expected 'power,<tags> <fields> <timestamp>' separated by single spaces"
    )


def _timestamp(line_no: int, text: str) -> tuple[int, datetime]:
    """The line's timestamp: nanoseconds as sent, and as a UTC time (microsecond precision)."""
    if not _TIMESTAMP.fullmatch(text):
        raise PayloadError(
            f"line {line_no}: timestamp must be integer nanoseconds since the Unix epoch, "
            f"got {_short(text)}"
        )
    ns = int(text)
    if ns < _MIN_TIMESTAMP_NS:
        raise PayloadError(
            f"line {line_no}: timestamp {ns} is before 2000; VoltWatch timestamps are "
            "nanoseconds since the Unix epoch (is it in seconds or milliseconds?)"
        )
    if ns >= _INT64:
        raise PayloadError(f"line {line_no}: timestamp {ns} is out of the 64-bit range")
    return ns, _EPOCH + timedelta(microseconds=ns // 1000)


class VoltWatchPlugin(SourcePlugin):
    """Power telemetry of gate controllers, pay stations and chargers (influx line protocol)."""

    name = "voltwatch"
    vendor = "VoltWatch"
    content_type = "text/plain; format=influx-line"
    description = (
        "Power telemetry of gate controllers, pay stations and EV chargers in InfluxDB "
        "line protocol."
    )
    simulates = frozenset({EventType.TELEMETRY})

    def parse(self, payload: bytes) -> list[CanonicalEvent]:
        """Each data line -> one telemetry event; any bad line rejects the payload."""
        text = decode_text(payload)
        lines = text.split("\n")
        if len(lines) > MAX_LINES and sum(map(_is_data, lines)) > MAX_LINES:
            raise PayloadError(f"payload has more than {MAX_LINES} lines; send smaller batches")
        if "\\" in text:
            line_no = text.count("\n", 0, text.index("\\")) + 1
            raise PayloadError(f"line {line_no}: backslash escapes are not supported")
        events = []
        for line_no, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line[0] == "#":
                continue
            events.append(self._to_event(line_no, line))
        if not events:
            raise PayloadError("payload has no data lines (only comments or blank lines)")
        return events

    def _to_event(self, line_no: int, line: str) -> CanonicalEvent:
        head, field_set, timestamp_text = _split_line(line_no, line)
        measurement, *tag_pairs = head.split(",")
        if measurement != MEASUREMENT:
            raise PayloadError(f"line {line_no}: unsupported measurement {_short(measurement)}")
        tags = _pairs(line_no, "tag", tag_pairs)
        site, device = tags.get("site"), tags.get("device")
        if not site or not device:
            missing = "site" if not site else "device"
            raise PayloadError(f"line {line_no}: missing tag '{missing}'")
        raw = _split_fields(line_no, field_set)
        for required in ("voltage", "current"):
            if required not in raw:
                raise PayloadError(f"line {line_no}: missing field '{required}'")
        voltage = _number(line_no, "voltage", raw["voltage"])
        current = _number(line_no, "current", raw["current"])
        fields: dict[str, Any] = {"voltage_v": voltage, "current_a": current}
        for key, attribute in OPTIONAL_FIELDS.items():
            if key in raw:
                fields[attribute] = _number(line_no, key, raw[key])
        if "power_w" not in fields and not math.isfinite(voltage * current):
            raise PayloadError(f"line {line_no}: voltage x current is too large to give a power")
        ns, ts = _timestamp(line_no, timestamp_text)
        try:
            return build_event(
                TelemetryEvent,
                event_id=make_event_id(self.name, device, ns),
                facility_id=site,
                device_id=device,
                ts=ts,
                source=self.name,
                **fields,
            )
        except PayloadError as exc:
            raise PayloadError(f"line {line_no}: {exc.reason}") from None

    def simulate(self, events: Sequence[CanonicalEvent], tz: tzinfo = UTC) -> bytes:
        """Render telemetry events as line protocol, one line each (timestamps in UTC ns).

        `tz` is not used: line protocol timestamps are epoch nanoseconds.
        """
        lines = []
        for event in events:
            if not isinstance(event, TelemetryEvent):
                raise ValueError(f"VoltWatch only sends telemetry, not {event.event_type}")
            power = (
                event.power_w if event.power_w is not None else event.voltage_v * event.current_a
            )
            values = [f"voltage={event.voltage_v!r}", f"current={event.current_a!r}",
                      f"power={power!r}"]  # fmt: skip
            for key, attribute in OPTIONAL_FIELDS.items():
                value = getattr(event, attribute)
                if key != "power" and value is not None:
                    values.append(f"{key}={float(value)!r}")
            ns = (event.ts - _EPOCH) // timedelta(microseconds=1) * 1000
            lines.append(
                f"{MEASUREMENT},site={event.facility_id},device={event.device_id} "
                f"{','.join(values)} {ns}"
            )
        return ("\n".join(lines) + "\n").encode()


def _is_data(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and stripped[0] != "#"
