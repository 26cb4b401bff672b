"""The helpers plugin authors use: each turns bad input into a readable PayloadError."""

from datetime import UTC, datetime

import pytest

from parkflow.events import EntryEvent
from parkflow.sdk import (
    PayloadError,
    build_event,
    decode_text,
    field,
    load_json,
    local_time,
    zone_info,
)


def test_decode_text_accepts_a_bom_and_rejects_bad_utf8_and_blank():
    assert decode_text("\ufeffa;b".encode()) == "a;b"
    with pytest.raises(PayloadError, match="not valid UTF-8 text"):
        decode_text(b"ok\xff")
    with pytest.raises(PayloadError, match="empty"):
        decode_text(b" \n")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty"),
        (b"{", "not valid JSON"),
        (b"NaN", "not valid JSON"),
        (b"[" * 2000 + b"]" * 2000, "not valid JSON"),
        (b"{1: 2}", "not valid JSON"),
    ],
)
def test_load_json_is_strict(payload, reason):
    with pytest.raises(PayloadError, match=reason):
        load_json(payload)


def test_field_reads_nested_values_and_checks_types():
    data = {"a": {"b": 3, "flag": True, "none": None}}
    assert field(data, "a.b", int) == 3
    assert field(data, "a.missing", str, default="x") == "x"
    assert field(data, "a.none", str, default=None) is None
    with pytest.raises(PayloadError, match=r"missing field 'a\.c'"):
        field(data, "a.c", int)
    with pytest.raises(PayloadError, match=r"field 'a\.b' must be text, got int"):
        field(data, "a.b", str)
    with pytest.raises(PayloadError, match="must be an integer or a number, got a boolean"):
        field(data, "a.flag", (int, float))
    with pytest.raises(PayloadError, match=r"expected an object at 'a\.b\.c'"):
        field(data, "a.b.c", int)


def test_build_event_explains_every_problem():
    with pytest.raises(PayloadError) as caught:
        build_event(
            EntryEvent,
            event_id="x",
            facility_id="F<1>",
            device_id="D",
            ts="soon",
            source="camguard",
            plate="AB",
            plate_confidence=2,
            gate_id="G",
            lane="1",
        )
    reason = caught.value.reason
    assert "facility_id:" in reason and "ts:" in reason and "plate_confidence:" in reason
    assert "(got 2)" in reason


def test_local_time_uses_the_facility_zone_and_rejects_other_formats():
    amsterdam = zone_info("Europe/Amsterdam")
    value = local_time("20.11.2026 08:15:03", "%d.%m.%Y %H:%M:%S", amsterdam)
    assert value.astimezone(UTC) == datetime(2026, 11, 20, 7, 15, 3, tzinfo=UTC)
    with pytest.raises(PayloadError, match="does not match the format"):
        local_time("2026-11-20", "%d.%m.%Y %H:%M:%S", amsterdam)
    with pytest.raises(PayloadError, match="unknown time zone"):
        zone_info("Mars/Olympus_Mons")
