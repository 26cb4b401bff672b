"""CamGuard ANPR camera plugin: contract plus the vendor-specific mapping."""

from datetime import UTC, datetime

import pytest

from parkflow.events import EntryEvent, ExitEvent, VehicleType
from parkflow.sdk import PayloadError
from parkflow.testing import SourcePluginContract
from plugins.camguard import CamGuardPlugin


class TestCamGuardContract(SourcePluginContract):
    plugin_class = CamGuardPlugin


@pytest.fixture
def plugin() -> CamGuardPlugin:
    return CamGuardPlugin()


def sample(plugin: CamGuardPlugin, name: str) -> bytes:
    return next(s.payload for s in plugin.samples() if s.name == name)


def test_entry_read_maps_every_field(plugin):
    [event] = plugin.parse(sample(plugin, "entry_single.json"))
    assert isinstance(event, EntryEvent)
    assert event.facility_id == "FAC-001"
    assert event.device_id == "FAC-001-CAM-IN-1"
    assert (event.gate_id, event.lane) == ("G-IN-1", "1")
    assert event.plate == "HX512B"  # dashes removed, upper case
    assert event.plate_confidence == pytest.approx(0.964)
    assert event.vehicle_type is VehicleType.CAR
    assert event.ts == datetime(2026, 11, 20, 7, 15, 3, 120000, tzinfo=UTC)  # +01:00 -> UTC
    assert event.image_url.endswith("7f3c9a2e41d84b0f.jpg")


def test_exit_read_with_lower_case_spaced_plate(plugin):
    [event] = plugin.parse(sample(plugin, "exit_single.json"))
    assert isinstance(event, ExitEvent)
    assert event.plate == "HX512B"


def test_offline_batch_upload_gives_one_event_per_read(plugin):
    events = plugin.parse(sample(plugin, "offline_batch_upload.json"))
    assert [e.vehicle_type for e in events] == [
        VehicleType.VAN,
        VehicleType.MOTORCYCLE,
        VehicleType.BUS,
    ]
    assert len({e.event_id for e in events}) == 3


def test_unknown_vehicle_class_is_kept_as_unknown(plugin):
    [event] = plugin.parse(sample(plugin, "unknown_vehicle_class.json"))
    assert event.vehicle_type is VehicleType.UNKNOWN
    assert event.lane == "2"


def test_resent_read_keeps_its_event_id(plugin):
    payload = sample(plugin, "entry_single.json")
    assert plugin.parse(payload)[0].event_id == plugin.parse(payload + b"\n")[0].event_id


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing_plate.json", "read.plate: Field required"),
        ("naive_timestamp.json", "timezone"),
        ("confidence_above_100.json", "plate_confidence"),
        ("unknown_direction.json", "direction must be 'in' or 'out'"),
        ("far_future.json", "in the future"),
        ("legacy_v1_text.txt", "Invalid JSON"),
    ],
)
def test_invalid_payloads_say_why(plugin, name, reason):
    payload = next(s.payload for s in plugin.invalid_samples() if s.name == name)
    with pytest.raises(PayloadError, match=reason):
        plugin.parse(payload)
