"""The source plugin SDK: the one class a hardware vendor subclasses.

A plugin turns the bytes its devices send into canonical events::

    class AcmePlugin(SourcePlugin):
        name = "acme"                      # topic raw.acme, HTTP POST /ingest/acme
        vendor = "Acme Parking Systems"
        content_type = "application/json"

        def parse(self, payload: bytes) -> list[CanonicalEvent]:
            data = load_json(payload)
            return [build_event(EntryEvent, event_id=make_event_id(self.name, data["id"]), ...)]

`parse` raises `PayloadError` with a reason a person can act on for anything it
cannot read. The helpers below (`decode_text`, `load_json`, `field`,
`build_event`, `local_time`, and `parse_lines` / `parse_csv_rows` for
line-oriented formats) raise it for you. Register the class under the
`parkflow.sources` entry-point group and run `parkflow plugins check`.
"""

from __future__ import annotations

import csv
import functools
import inspect
import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo, available_timezones

import orjson
from pydantic import ValidationError

from parkflow.events import (
    CanonicalEvent,
    EventBase,
    EventType,
    is_canonical_event,
    make_event_id,
)

E = TypeVar("E", bound=EventBase)

__all__ = [
    "ENTRY_POINT_GROUP",
    "PayloadError",
    "Sample",
    "SourcePlugin",
    "build_event",
    "decode_text",
    "describe_validation_error",
    "field",
    "load_json",
    "local_time",
    "make_event_id",
    "parse_csv_rows",
    "parse_lines",
    "zone_info",
]

#: The entry-point group plugins register under.
ENTRY_POINT_GROUP = "parkflow.sources"


class PayloadError(ValueError):
    """A payload a plugin cannot turn into canonical events.

    `reason` says in plain words what is wrong, so that it can be read in the
    dead-letter table by someone who never saw the code.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Sample:
    """A bundled example payload (a file under the plugin's `samples/` folder)."""

    name: str
    payload: bytes


class SourcePlugin(ABC):
    """Base class of every vendor source plugin."""

    #: Unique, lower-case identifier: topic `raw.<name>`, endpoint `/ingest/<name>`.
    name: ClassVar[str]
    #: The vendor as people know it.
    vendor: ClassVar[str]
    #: MIME type of the payloads, e.g. "application/json" or "text/csv".
    content_type: ClassVar[str]
    #: One line on the devices and feed this plugin reads.
    description: ClassVar[str] = ""
    #: Event types `simulate` can render; empty when the plugin does not simulate.
    simulates: ClassVar[frozenset[EventType]] = frozenset()
    #: The header line of a line format, exactly, where it has one: `parkflow import` and
    #: `parkflow replay`, which send a file line by line, skip it rather than send it alone.
    header_line: ClassVar[str | None] = None

    @abstractmethod
    def parse(self, payload: bytes) -> list[CanonicalEvent]:
        """Turn one vendor payload into canonical events, or raise `PayloadError`."""

    def simulate(self, events: Sequence[CanonicalEvent], tz: tzinfo = UTC) -> bytes:
        """Render canonical events as one vendor-native payload (the inverse of `parse`).

        `events` are what one device sends in one message (usually one event);
        `tz` is the facility's time zone, for vendors whose devices send local
        times. Optional: plugins that implement it list the event types in
        `simulates`; the traffic simulator and the conformance kit's round-trip
        check use it.
        """
        raise NotImplementedError(f"plugin {self.name!r} does not simulate payloads")

    @property
    def samples_dir(self) -> Path:
        """The folder of bundled sample payloads, next to the plugin's module."""
        return Path(inspect.getfile(type(self))).parent / "samples"

    def samples(self) -> list[Sample]:
        """Bundled real-looking payloads that must parse (files directly in `samples/`)."""
        return _read_samples(self.samples_dir)

    def invalid_samples(self) -> list[Sample]:
        """Bundled payloads that must be rejected (files in `samples/invalid/`)."""
        return _read_samples(self.samples_dir / "invalid")


def _read_samples(folder: Path) -> list[Sample]:
    if not folder.is_dir():
        return []
    return [
        Sample(path.name, path.read_bytes())
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.startswith(".")
    ]


# --- helpers for plugin authors: each raises PayloadError with a readable reason ---


def decode_text(payload: bytes) -> str:
    """Decode a payload as UTF-8 text (a BOM is tolerated)."""
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError(
            f"payload is not valid UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    if not text.strip():
        raise PayloadError("payload is empty")
    return text


_EVENT_LISTS = (list, tuple)


def parse_lines(
    payload: bytes,
    parse_line: Callable[[str], E | Sequence[E]],
    *,
    header: str | None = None,
    max_lines: int = 10_000,
) -> list[E]:
    """Parse a line-oriented payload: `parse_line(text)` once per data line.

    Lines end with LF or CRLF; blank lines are skipped, and so is `header` when it
    is the first non-blank line (anywhere else it is an error). `parse_line`
    returns one event or a list of events, or raises `PayloadError`: the first bad
    line rejects the whole payload as `line N: <reason>` (N counts physical lines
    from 1), so the sender can fix it and re-send the payload as a whole.
    """
    lines = decode_text(payload).split("\n")
    if lines[-1] == "":
        lines.pop()
    _check_line_count(len(lines), max_lines)
    events: list[E] = []
    header_due = header is not None
    for number, line in enumerate(lines, 1):
        if line.endswith("\r"):
            line = line[:-1]
        if not line or line.isspace():
            continue
        if line == header:
            if header_due:
                header_due = False
                continue
            raise PayloadError(f"line {number}: {_misplaced_header('line', header)}")
        header_due = False
        try:
            result = parse_line(line)
        except PayloadError as exc:
            if header is not None and line.strip().casefold() == header.casefold():
                raise PayloadError(f"line {number}: {_misplaced_header('line', header)}") from None
            raise PayloadError(f"line {number}: {exc.reason}") from None
        if isinstance(result, _EVENT_LISTS):
            events.extend(result)
        else:
            events.append(result)
    if not events:
        data = [line for line in lines if not line.isspace() and line]
        if not data:
            raise PayloadError("payload is empty")
        if len(data) == 1 and data[0].removesuffix("\r") == header:
            raise PayloadError("payload has a header line but no data lines")
    return events


def parse_csv_rows(
    payload: bytes,
    parse_row: Callable[[list[str]], E | Sequence[E]],
    *,
    header: Sequence[str] | None = None,
    delimiter: str = ",",
    max_lines: int = 10_000,
) -> list[E]:
    """Parse a CSV payload (standard quoting): `parse_row(fields)` once per data row.

    Like `parse_lines`: LF or CRLF line ends, blank rows skipped, `header` skipped
    when it is the first row (anywhere else it is an error), and the first bad row
    rejects the whole payload as `line N: <reason>`, N being the physical line the
    row ends on (a quoted field may span lines; a quote never closed is reported
    on the line its row starts). Spaces after a delimiter are ignored.
    """
    text = decode_text(payload)
    _check_line_count(text.count("\n") + (not text.endswith("\n")), max_lines)
    expected = None if header is None else list(header)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True, strict=True)
    events: list[E] = []
    header_due = expected is not None
    header_seen = data_seen = False
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader, None)
        except csv.Error as exc:
            problem = _csv_problem(exc)
            number = start if problem is _UNCLOSED_QUOTE else reader.line_num
            raise PayloadError(f"line {number}: {problem}") from None
        if row is None:
            break
        if not row or (len(row) == 1 and (not row[0] or row[0].isspace())):
            continue
        if row == expected:
            if header_due:
                header_due = False
                header_seen = True
                continue
            reason = _misplaced_header("row", delimiter.join(row))
            raise PayloadError(f"line {reader.line_num}: {reason}")
        header_due = False
        data_seen = True
        try:
            result = parse_row(row)
        except PayloadError as exc:
            if expected is not None and _looks_like_header(row, expected):
                reason = _misplaced_header("row", delimiter.join(expected))
                raise PayloadError(f"line {reader.line_num}: {reason}") from None
            raise PayloadError(f"line {reader.line_num}: {exc.reason}") from None
        if isinstance(result, _EVENT_LISTS):
            events.extend(result)
        else:
            events.append(result)
    if not data_seen:
        if header_seen:
            raise PayloadError("payload has a header row but no data rows")
        raise PayloadError("payload is empty")
    return events


def _check_line_count(lines: int, max_lines: int) -> None:
    if lines > max_lines:
        raise PayloadError(
            f"payload has {lines} lines; at most {max_lines} are accepted, split the feed"
        )


def _misplaced_header(kind: str, header: str) -> str:
    return f"a header {kind} must be exactly {header!r} and come first"


def _looks_like_header(row: list[str], header: list[str]) -> bool:
    """Whether a row is the header apart from case and surrounding spaces."""
    return len(row) == len(header) and all(
        got.strip().casefold() == want.casefold() for got, want in zip(row, header, strict=True)
    )


_UNCLOSED_QUOTE = "a quoted field is never closed (unbalanced '\"')"


def _csv_problem(exc: csv.Error) -> str:
    """The csv module's complaint in words a feed operator can act on."""
    message = str(exc)
    if "new-line character" in message:
        return "a line break (CR) inside an unquoted field; lines must end with LF or CRLF"
    if "end of data" in message:
        return _UNCLOSED_QUOTE
    if "field limit" in message:
        return f"a field is longer than {csv.field_size_limit()} characters"
    return f"not valid CSV: {message}"


def load_json(payload: bytes) -> Any:
    """Parse a JSON payload (strict: no NaN or Infinity, nesting <= 1024)."""
    if not payload.strip():
        raise PayloadError("payload is empty")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"payload is not valid JSON: {exc.msg} (at char {exc.pos})") from None


_MISSING = object()
_PATHS: dict[str, tuple[str, ...]] = {}


def field(data: Any, path: str, kind: type | tuple[type, ...], *, default: Any = _MISSING) -> Any:
    """Read `a.b.c` from nested JSON objects, checking the value's type.

    A missing or null value returns `default` when one is given, else raises.
    `bool` is never accepted where a number is expected.
    """
    keys = _PATHS.get(path)
    if keys is None:
        keys = _PATHS.setdefault(path, tuple(path.split(".")))
    value = data
    for key in keys:
        if type(value) is not dict:
            raise PayloadError(f"expected an object at '{path}'")
        value = value.get(key)
        if value is None:
            if default is _MISSING:
                raise PayloadError(f"missing field '{path}'")
            return default
    if not isinstance(value, kind) or (type(value) is bool and not _accepts_bool(kind)):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        got = "a boolean" if type(value) is bool else type(value).__name__
        raise PayloadError(f"field '{path}' must be {_kind_name(kinds)}, got {got}")
    return value


def _accepts_bool(kind: type | tuple[type, ...]) -> bool:
    return kind is bool or (isinstance(kind, tuple) and bool in kind)


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {str: "text", int: "an integer", float: "a number", bool: "a boolean",
             dict: "an object", list: "a list"}  # fmt: skip
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds)


def build_event(model: type[E], **fields: Any) -> E:
    """Create a canonical event, turning validation errors into a readable `PayloadError`."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise PayloadError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem: `field: message (got value)`."""
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "payload"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] in {"missing", "json_invalid", "json_type"}:
            problems.append(f"{location}: {message}")
            continue
        if not error["loc"] or _is_plate(error["loc"]):
            # personal data: a reason lands in the dead letters, and a whole-event check's
            # input is every field, the plate too
            problems.append(f"{location}: {message} (value not shown: it may be a plate)")
            continue
        given = error.get("input")
        value = given.isoformat() if isinstance(given, datetime) else repr(given)
        if len(value) > 60:
            value = value[:57] + "..."
        problems.append(f"{location}: {message} (got {value})")
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    return "; ".join(problems[:5]) + more


def _is_plate(location: tuple[int | str, ...]) -> bool:
    """Whether a validation error is about a plate (`plate`, `read.plate.text`, ...)."""
    parts = [str(part).lower() for part in location]
    return "plate" in parts and parts[-1] != "confidence"


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_info(name: str) -> ZoneInfo:
    """An IANA time zone by name (e.g. Europe/Amsterdam), or `PayloadError`."""
    if name not in _known_zones():  # also keeps file-system paths away from ZoneInfo
        raise PayloadError(f"unknown time zone {name[:40]!r}")
    return ZoneInfo(name)


def local_time(text: str, fmt: str, tz: ZoneInfo) -> datetime:
    """Parse a vendor's local wall-clock time in a facility's time zone.

    During the autumn DST overlap the earlier of the two instants is taken.
    """
    try:
        naive = datetime.strptime(text, fmt)
    except ValueError:
        raise PayloadError(f"time {text[:40]!r} does not match the format {fmt!r}") from None
    return naive.replace(tzinfo=tz)


def check_events(plugin: SourcePlugin, events: object) -> list[CanonicalEvent]:
    """Verify what `parse` returned keeps the contract; raise `TypeError` when it does not."""
    if not isinstance(events, list):
        raise TypeError(f"parse() must return a list, not {type(events).__name__}")
    for event in events:
        if not is_canonical_event(event):
            raise TypeError(f"parse() returned {type(event).__name__}, not a canonical event")
        if event.source != plugin.name:
            raise TypeError(f"event source {event.source!r} is not the plugin name {plugin.name!r}")
    return events
