"""VoltWatch line-protocol telemetry plugin: contract plus the vendor-specific mapping."""

from datetime import UTC, datetime

import pytest

from parkflow.events import TelemetryEvent
from parkflow.sdk import PayloadError, make_event_id
from parkflow.testing import SourcePluginContract
from plugins.voltwatch import MAX_LINES, VoltWatchPlugin


class TestVoltWatchContract(SourcePluginContract):
    plugin_class = VoltWatchPlugin


@pytest.fixture
def plugin() -> VoltWatchPlugin:
    return VoltWatchPlugin()


def sample(plugin: VoltWatchPlugin, name: str) -> bytes:
    return next(s.payload for s in plugin.samples() if s.name == name)


GOOD = "power,site=FAC-001,device=FAC-001-GC-IN-1 voltage=229.8,current=1.42 1795162503000000000"


def test_gate_controller_line_maps_every_field(plugin):
    [event] = plugin.parse(sample(plugin, "gate_controller_single.lp"))
    assert isinstance(event, TelemetryEvent)
    assert (event.facility_id, event.device_id) == ("FAC-001", "FAC-001-GC-IN-1")
    assert event.ts == datetime(2026, 11, 20, 8, 15, 3, 120000, tzinfo=UTC)
    assert (event.voltage_v, event.current_a, event.power_w) == (229.8, 1.42, 326.3)
    assert event.temperature_c == 21.5
    assert event.battery_pct is None
    assert event.rssi_dbm is None
    assert event.event_id == make_event_id("voltwatch", "FAC-001-GC-IN-1", 1795162503120000000)


def test_batch_with_crlf_comments_blank_lines_and_integer_fields(plugin):
    events = plugin.parse(sample(plugin, "pay_station_batch_crlf.lp"))
    assert [e.device_id for e in events] == ["FAC-002-PS-01", "FAC-002-PS-02", "FAC-002-PS-03"]
    assert [(e.battery_pct, e.rssi_dbm) for e in events] == [(87, -71), (92, -78), (34, -93)]
    assert events[2].power_w == 5.166  # no power field: 12.6 V x 0.41 A
    assert len({e.event_id for e in events}) == 3


def test_unknown_tags_fields_and_quoted_strings_are_ignored(plugin):
    [event] = plugin.parse(sample(plugin, "ev_charger_three_phase.lp"))
    assert (event.voltage_v, event.current_a, event.power_w) == (400.2, 31.8, 12726.4)
    assert event.ts == datetime(2026, 11, 17, 21, 5, 0, 500000, tzinfo=UTC)


def test_unknown_kind_is_accepted_and_power_derived(plugin):
    [event] = plugin.parse(sample(plugin, "minimal_unknown_kind.lp"))
    assert event.device_id == "FAC-005-BARRIER-2"
    assert event.power_w == 8.435


def test_out_of_range_readings_are_kept(plugin):
    gate, camera = plugin.parse(sample(plugin, "brownout_kept_as_received.lp"))
    assert (gate.voltage_v, gate.current_a, gate.temperature_c) == (187.2, 0.0, 71.4)
    assert camera.voltage_v == -0.4
    assert camera.ts == datetime(2026, 11, 18, 10, 30, 0, 123456, tzinfo=UTC)  # ns truncated
    assert camera.event_id == make_event_id("voltwatch", "FAC-003-CAM-OUT-1", 1794997800123456789)


def test_resent_line_keeps_its_event_id(plugin):
    [first] = plugin.parse(GOOD.encode())
    [again] = plugin.parse(f"# resent\r\n{GOOD}\r\n".encode())
    assert first.event_id == again.event_id


def test_simulate_writes_one_line_per_event_with_power(plugin):
    events = plugin.parse(sample(plugin, "pay_station_batch_crlf.lp"))
    lines = plugin.simulate(events).decode().splitlines()
    assert len(lines) == 3
    assert lines[2] == (
        "power,site=FAC-002,device=FAC-002-PS-03 voltage=12.6,current=0.41,power=5.166,"
        "temp=9.5,battery=34.0,rssi=-93.0 1795110190000000000"
    )


def test_simulated_floats_survive_exactly(plugin):
    [event] = plugin.parse(
        b"power,site=S,device=D voltage=0.1,current=1e-07,power=1.2345678901234567e+16,"
        b"temp=-0.0 1795162503000000001"
    )
    [again] = plugin.parse(plugin.simulate([event]))
    assert (again.voltage_v, again.current_a, again.power_w) == (0.1, 1e-07, 1.2345678901234567e16)


#: Every bundled invalid sample and the reason it is rejected with.
INVALID = [
    ("wrong_measurement.lp", "line 1: unsupported measurement 'cpu'"),
    ("missing_device_tag.lp", "line 1: missing tag 'device'"),
    ("nan_voltage.lp", "line 1: field 'voltage' is not a finite number"),
    ("missing_timestamp.lp", "line 1: missing timestamp"),
    ("backslash_escape.lp", "line 2: backslash escapes are not supported"),
    ("missing_current_field.lp", "line 1: missing field 'current'"),
    ("bad_value_on_line_3.lp", "line 3: field 'current' must be a number"),
    ("timestamp_in_seconds.lp", "line 1: timestamp 1795162503 is before 2000"),
    ("far_future.lp", "line 1: ts: .* in the future"),
    ("json_instead_of_lines.json", "line 1: unsupported measurement"),
]


@pytest.mark.parametrize(("name", "reason"), INVALID)
def test_invalid_payloads_say_why(plugin, name, reason):
    payload = next(s.payload for s in plugin.invalid_samples() if s.name == name)
    with pytest.raises(PayloadError, match=reason):
        plugin.parse(payload)


def test_every_invalid_sample_is_covered(plugin):
    assert {s.name for s in plugin.invalid_samples()} == {name for name, _ in INVALID}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (GOOD.replace("1.42", "inf"), "field 'current' is not a finite number"),
        (GOOD.replace("1.42", "1e999"), "field 'current' is too large"),
        (GOOD.replace("1.42", "1_000"), "field 'current' must be a number"),
        (GOOD.replace("1.42", "5u"), "field 'current' must be a number"),
        (GOOD.replace("1.42", "99999999999999999999i"), "out of the 64-bit integer range"),
        (GOOD.replace("1.42", "1.42,current=1.5"), "field 'current' is given twice"),
        (GOOD.replace("229.8,current=1.42", "1e200,current=1e200"), "too large to give a power"),
        (GOOD.replace(",site=FAC-001", ""), "missing tag 'site'"),
        (GOOD.replace("device=FAC-001-GC-IN-1", "site=FAC-002"), "tag 'site' is given twice"),
        (GOOD.replace(" voltage=229.8,current=1.42", ""), "missing fields"),
        (GOOD.replace("site=FAC-001", "site"), "tag 'site' is not key=value"),
        (GOOD.replace("site=FAC-001", "site=FAC 001"), "single spaces"),
        (GOOD.replace("FAC-001-GC-IN-1", "<script>"), "device_id: String should match"),
        (GOOD.replace("1795162503000000000", "1795162503.5"), "integer nanoseconds"),
        (GOOD.replace("1795162503000000000", "9223372036854775808"), "64-bit range"),
        (GOOD.replace("voltage=229.8,", "battery=140i,voltage=229.8,"), "battery_pct"),
    ],
)
def test_a_bad_line_rejects_the_payload_with_its_number(plugin, line, reason):
    with pytest.raises(PayloadError, match=reason) as caught:
        plugin.parse(f"{GOOD}\n{line}\n".encode())
    assert caught.value.reason.startswith("line 2: ")


def test_a_payload_of_comments_only_is_rejected(plugin):
    with pytest.raises(PayloadError, match="no data lines"):
        plugin.parse(b"# VoltWatch gateway heartbeat\r\n\r\n")


def test_too_many_lines_are_rejected(plugin):
    payload = ("\n".join([GOOD] * (MAX_LINES + 1))).encode()
    with pytest.raises(PayloadError, match="more than 10000 lines"):
        plugin.parse(payload)
    assert len(plugin.parse(("# header\n" + "\n".join([GOOD] * MAX_LINES)).encode())) == MAX_LINES
