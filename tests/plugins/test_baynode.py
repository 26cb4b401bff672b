"""BayNode LoRaWAN bay sensor plugin: contract plus the vendor-specific mapping."""

from datetime import UTC, datetime

import orjson
import pytest

from parkflow.events import BayStatusEvent, TelemetryEvent
from parkflow.sdk import PayloadError, make_event_id
from parkflow.testing import SourcePluginContract
from plugins.baynode import BayNodePlugin


class TestBayNodeContract(SourcePluginContract):
    plugin_class = BayNodePlugin


@pytest.fixture
def plugin() -> BayNodePlugin:
    return BayNodePlugin()


def sample(plugin: BayNodePlugin, name: str) -> bytes:
    return next(s.payload for s in plugin.samples() if s.name == name)


def with_changes(payload: bytes, **changes: object) -> bytes:
    return orjson.dumps({**orjson.loads(payload), **changes})


def test_status_change_maps_every_field(plugin):
    bay, telemetry = plugin.parse(sample(plugin, "status_change_occupied.json"))
    assert isinstance(bay, BayStatusEvent)
    assert isinstance(telemetry, TelemetryEvent)
    ts = datetime(2026, 11, 20, 8, 15, 3, 412000, tzinfo=UTC)
    for event in (bay, telemetry):
        assert (event.facility_id, event.device_id, event.ts) == ("FAC-002", "70B3D57ED0051A2F", ts)
    assert (bay.zone_id, bay.bay_id, bay.occupied) == ("Z-01", "B-017", True)
    assert telemetry.voltage_v == 3.581  # 0x0DFD mV
    assert telemetry.current_a == 0.0012  # 0x000C x 0.1 mA
    assert telemetry.power_w == 0.004  # derived: 3.581 V x 1.2 mA
    assert telemetry.battery_pct == 90
    assert telemetry.temperature_c == 6.5
    assert telemetry.rssi_dbm == -97


def test_event_ids_are_keyed_on_deveui_frame_counter_and_reception_time(plugin):
    payload = sample(plugin, "status_change_occupied.json")
    bay, telemetry = plugin.parse(payload)
    received = bay.ts.isoformat()
    assert bay.event_id == make_event_id("baynode", "70B3D57ED0051A2F", 1532, received, "bay")
    assert telemetry.event_id == make_event_id(
        "baynode", "70B3D57ED0051A2F", 1532, received, "telemetry"
    )
    # a counter that restarted after a rejoin does not collide with the old uplink
    rejoined = plugin.parse(with_changes(payload, received_at="2026-11-20T09:00:00Z"))
    assert rejoined[0].event_id != bay.event_id


def test_lower_case_deveui_is_normalised_and_ids_do_not_change(plugin):
    payload = sample(plugin, "heartbeat_free_lowercase_deveui.json")
    bay, telemetry = plugin.parse(payload)
    assert bay.device_id == telemetry.device_id == "70B3D57ED0051B04"
    upper = plugin.parse(with_changes(payload, deveui="70B3D57ED0051B04"))
    assert [e.event_id for e in upper] == [bay.event_id, telemetry.event_id]


def test_heartbeat_carries_the_full_status(plugin):
    bay, telemetry = plugin.parse(sample(plugin, "heartbeat_free_lowercase_deveui.json"))
    assert bay.occupied is False
    assert (telemetry.battery_pct, telemetry.temperature_c, telemetry.rssi_dbm) == (
        74,
        11.2,
        -104.5,
    )


def test_unknown_battery_and_missing_rx_are_none(plugin):
    _, telemetry = plugin.parse(sample(plugin, "battery_unknown_no_rx.json"))
    assert telemetry.battery_pct is None
    assert telemetry.rssi_dbm is None
    assert telemetry.temperature_c == -4.5  # int16 0xFFD3


def test_low_battery_frame_and_local_offset(plugin):
    bay, telemetry = plugin.parse(sample(plugin, "low_battery_local_offset.json"))
    assert bay.occupied is True
    assert telemetry.battery_pct == 11
    assert telemetry.temperature_c == -0.8
    assert bay.ts == datetime(2026, 11, 14, 17, 30, 55, 250000, tzinfo=UTC)  # +01:00 -> UTC


def test_reserved_flag_bits_are_ignored(plugin):
    bay, telemetry = plugin.parse(sample(plugin, "heartbeat_reserved_flag_bits.json"))
    assert bay.occupied is True  # flags 0x85: bit0 set
    assert telemetry.battery_pct == 100


def test_redelivered_uplink_keeps_its_event_ids(plugin):
    payload = sample(plugin, "status_change_occupied.json")
    again = with_changes(payload, rx={"rssi": -90, "gateway": "gw-oldtown-2"})
    assert [e.event_id for e in plugin.parse(payload)] == [e.event_id for e in plugin.parse(again)]


def test_simulate_renders_one_uplink_in_utc(plugin):
    events = plugin.parse(sample(plugin, "low_battery_local_offset.json"))
    body = orjson.loads(plugin.simulate(events[::-1]))  # either order
    assert body["received_at"] == "2026-11-14T17:30:55.250Z"
    assert body["payload_hex"][:8] == "01030BFF"  # status change, occupied + low battery
    assert 0 <= body["fcnt"] <= 0xFFFF
    assert body["fcnt"] == orjson.loads(plugin.simulate(events))["fcnt"]  # stable


def test_temperature_0x8000_means_unknown(plugin):
    _, telemetry = plugin.parse(sample(plugin, "temperature_unknown.json"))
    assert telemetry.temperature_c is None
    assert telemetry.voltage_v == 3.581


def test_simulate_a_lone_bay_status(plugin):
    bay, _ = plugin.parse(sample(plugin, "status_change_occupied.json"))
    again_bay, telemetry = plugin.parse(plugin.simulate([bay]))
    assert again_bay.occupied is True
    assert telemetry.battery_pct is None
    assert telemetry.temperature_c is None
    assert (telemetry.voltage_v, telemetry.current_a) == (0, 0)


def test_simulate_refuses_a_lone_telemetry_event(plugin):
    _, telemetry = plugin.parse(sample(plugin, "status_change_occupied.json"))
    with pytest.raises(ValueError, match="one BayStatusEvent"):
        plugin.simulate([telemetry])


#: Every bundled invalid sample and the reason it is rejected with.
INVALID = [
    ("wrong_fport.json", r"unsupported fport 10 \(BayNode status frames use port 2\)"),
    ("odd_length_hex.json", "odd number of hex digits"),
    ("spaced_hex.json", "not hexadecimal: ' ' at position 4"),
    ("short_frame.json", "9 bytes; a BayNode status frame is 11 bytes"),
    ("unknown_frame_type.json", "unknown frame type 0x07"),
    ("battery_out_of_range.json", "battery byte is 125"),
    ("unprovisioned_sensor.json", "70B3D57ED0051A2F has no bay attributes; provision it"),
    ("naive_received_at.json", "received_at: Input should have timezone info"),
    ("bad_deveui.json", "deveui: String should match pattern"),
    ("far_future.json", "in the future"),
]


@pytest.mark.parametrize(("name", "reason"), INVALID)
def test_invalid_payloads_say_why(plugin, name, reason):
    payload = next(s.payload for s in plugin.invalid_samples() if s.name == name)
    with pytest.raises(PayloadError, match=reason):
        plugin.parse(payload)


def test_every_invalid_sample_is_covered(plugin):
    assert {s.name for s in plugin.invalid_samples()} == {name for name, _ in INVALID}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"attributes": {"facility": "FAC-002", "bay": "B-017"}}, "has no zone attribute"),
        ({"fcnt": -1}, "fcnt: Input should be greater than or equal to 0"),
        ({"fcnt": "1532"}, "fcnt: Input should be a valid integer"),
        ({"received_at": "0001-01-01T00:00:00+14:00"}, "received_at: timestamp is out of range"),
        ({"rx": {"rssi": "-97"}}, "rx.rssi: Input should be a valid number"),
    ],
)
def test_envelope_problems_say_why(plugin, changes, reason):
    payload = with_changes(sample(plugin, "status_change_occupied.json"), **changes)
    with pytest.raises(PayloadError, match=reason):
        plugin.parse(payload)
