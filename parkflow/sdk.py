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
`build_event`, `local_time`) raise it for you. Register the class under the
`parkflow.sources` entry-point group and run `parkflow plugins check`.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
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
        if _is_plate(error["loc"]):  # personal data: a reason lands in the dead letters
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
