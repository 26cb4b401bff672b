"""Hypothesis strategies of hostile payloads: random bytes and mutated samples.

Mutations work at three depths so that a fuzz run reaches past the first
`json.loads`: raw bytes (flips, cuts, insertions), the fields of delimited text
(CSV, line protocols), and the values of JSON documents (wrong types, huge
numbers, injections, deep nesting).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson
from hypothesis import strategies as st

#: Field values that break careless parsers.
NASTY_STRINGS: tuple[str, ...] = (
    "", " ", "0", "-1", "-0", "1e309", "-1e309", "NaN", "nan", "Infinity", "null", "true",
    "99999999999999999999999999", "0x1F", "1_000", "١٢٣", "12,50",
    "'; DROP TABLE sessions; --", "<script>alert(1)</script>", "{{7*7}}", "${jndi:ldap://x}",
    "\u0000", "\u202e", "🚗🅿️", "A" * 5000,
    "2026-13-45T25:61:61Z", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z", "2099-01-01T00:00:00Z", "2026-11-20", "yesterday",
)  # fmt: skip

#: Whole payloads every plugin must survive.
NASTY_PAYLOADS: tuple[bytes, ...] = (
    b"", b" ", b"\n", b"\x00", b"\xff\xfe\xfd", b"\xed\xa0\x80", b"null", b"true", b"0", b"[]",
    b"{}", b'""', b"[[]]", b'{"":{}}', b"1e999", b"NaN", b"-Infinity",
    b"[" * 2000 + b"]" * 2000, b'{"a":' * 2000 + b"1" + b"}" * 2000,
    b"123456789012345678901234567890", b";;;;;;;;", b",,,,,,,,", b"\r\n\r\n", b"\t",
    b"SELECT * FROM sessions", b"<xml><a/></xml>", "éèà".encode("latin-1"),
)  # fmt: skip

_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(NASTY_STRINGS),
)
_DELIMITERS = re.compile(rb"([;,|\t =\n])")


def json_documents() -> st.SearchStrategy[bytes]:
    """Random JSON documents."""
    values = st.recursive(
        _JSON_LEAVES,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=20,
    )
    return values.map(orjson.dumps)


def random_payloads() -> st.SearchStrategy[bytes]:
    """Random bytes, text, JSON documents and known-nasty payloads."""
    return st.one_of(
        st.binary(max_size=1024),
        st.text(max_size=256).map(lambda text: text.encode("utf-8", "surrogatepass")),
        json_documents(),
        st.sampled_from(NASTY_PAYLOADS),
    )


def _mutate_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    if not data:
        return draw(st.binary(max_size=16))
    at = draw(st.integers(0, len(data) - 1))
    kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate", "swap"]))
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 16)) :]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    if kind == "truncate":
        return data[:at]
    if kind == "duplicate":
        return data[:at] + data[at : at + 64] * draw(st.integers(2, 20)) + data[at:]
    return data[:at] + data[at + 1 : at + 2] + data[at : at + 1] + data[at + 2 :]


def _mutate_fields(draw: st.DrawFn, data: bytes) -> bytes:
    parts = _DELIMITERS.split(data)
    fields = [i for i in range(0, len(parts), 2)]
    at = draw(st.sampled_from(fields))
    replacement = draw(st.sampled_from(NASTY_STRINGS) | st.text(max_size=12))
    parts[at] = replacement.encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and len(parts) > 2:  # also drop or repeat a delimiter sometimes
        delimiter_at = draw(st.sampled_from(range(1, len(parts), 2)))
        parts[delimiter_at] = draw(st.sampled_from([b"", parts[delimiter_at] * 2]))
    return b"".join(parts)


def _json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _json_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += _json_paths(child, (*path, index))
    return paths


def _mutate_json(draw: st.DrawFn, document: Any) -> bytes:
    path = draw(st.sampled_from(_json_paths(document)))
    kind = draw(st.sampled_from(["replace", "delete", "add", "nest"]))
    if not path:
        return orjson.dumps(draw(_JSON_LEAVES))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if kind == "replace":
        parent[key] = draw(_JSON_LEAVES)
    elif kind == "delete":
        del parent[key]
    elif kind == "add" and isinstance(parent, dict):
        parent[draw(st.text(max_size=8))] = draw(_JSON_LEAVES)
    else:
        nested: Any = parent[key]
        for _ in range(draw(st.integers(1, 60))):  # deeper nesting: NASTY_PAYLOADS
            nested = [nested]
        parent[key] = nested
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:  # nested past orjson's writer limit (254 levels)
        return b"[" * 300 + b"]" * 300


@st.composite
def mutated_payloads(draw: st.DrawFn, samples: Sequence[bytes]) -> bytes:
    """A sample payload with one to three mutations at byte, field or JSON level."""
    data = draw(st.sampled_from(list(samples)))
    for _ in range(draw(st.integers(1, 3))):
        depth = draw(st.sampled_from(["bytes", "fields", "json"]))
        if depth == "json":
            try:
                document = orjson.loads(data)
            except orjson.JSONDecodeError:
                depth = "fields"
            else:
                data = _mutate_json(draw, document)
                continue
        data = _mutate_fields(draw, data) if depth == "fields" else _mutate_bytes(draw, data)
    return data
