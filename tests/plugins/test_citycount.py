"""CityCount occupancy plugin: contract plus the vendor-specific mapping."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from parkflow.events import OccupancyCountEvent, QualityFlag
from parkflow.sdk import PayloadError
from parkflow.testing import SourcePluginContract
from plugins.citycount import MAX_LINES, TZ_ENV_VAR, CityCountPlugin


class TestCityCountContract(SourcePluginContract):
    plugin_class = CityCountPlugin


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> CityCountPlugin:
    monkeypatch.delenv(TZ_ENV_VAR, raising=False)
    return CityCountPlugin()


def sample(plugin: CityCountPlugin, name: str) -> bytes:
    return next(s.payload for s in plugin.samples() if s.name == name)


HEADER = "carpark_id,name,last_update,occupied,capacity,state"
ROW = "FAC-003,Parkeergarage Centrum,2026-11-20 08:05:00,412,600,open"


def test_single_reading_maps_every_field(plugin):
    [event] = plugin.parse(sample(plugin, "single_reading.csv"))
    assert isinstance(event, OccupancyCountEvent)
    assert (event.facility_id, event.device_id) == ("FAC-003", "FAC-003-CNT")
    assert event.ts == datetime(2026, 11, 20, 7, 5, tzinfo=UTC)  # Amsterdam wall clock -> UTC
    assert (event.occupied, event.capacity, event.zone_id) == (412, 600, None)
    assert event.flags == ()


def test_feed_with_header_crlf_and_quoted_names(plugin):
    events = plugin.parse(sample(plugin, "city_feed_with_header_crlf.csv"))
    assert [e.facility_id for e in events] == ["FAC-003", "FAC-004", "FAC-005", "FAC-006"]
    assert [e.capacity for e in events] == [600, 350, None, 420]
    assert events[2].ts == datetime(2026, 11, 19, 16, 29, 41, tzinfo=UTC)


def test_negative_count_is_kept_and_flagged(plugin):
    [event] = plugin.parse(sample(plugin, "negative_count_loop_drift.csv"))
    assert event.occupied == -3
    assert event.flags == (QualityFlag.NEGATIVE_COUNT,)


def test_count_above_capacity_is_kept_and_flagged(plugin):
    [event] = plugin.parse(sample(plugin, "above_capacity.csv"))
    assert (event.occupied, event.capacity) == (615, 600)
    assert event.flags == (QualityFlag.ABOVE_CAPACITY,)


def test_duplicate_rows_share_an_event_id(plugin):
    first, duplicate, later = plugin.parse(sample(plugin, "minutes_only_with_duplicate.csv"))
    assert first.event_id == duplicate.event_id != later.event_id
    assert first.ts == datetime(2026, 11, 15, 10, 45, tzinfo=UTC)  # HH:MM without seconds


def test_reading_time_with_or_without_seconds_is_the_same_event(plugin):
    [with_seconds] = plugin.parse(ROW.encode())
    [without] = plugin.parse(ROW.replace("08:05:00", "08:05").encode())
    assert with_seconds.event_id == without.event_id


def test_spaces_after_commas_and_state_case_are_tolerated(plugin):
    [event] = plugin.parse(b'FAC-004, "Stationsplein, Oost", 2026-11-20 08:05, 12, 350, OPEN\n')
    assert (event.facility_id, event.occupied, event.capacity) == ("FAC-004", 12, 350)


def test_time_zone_from_the_environment(monkeypatch):
    monkeypatch.setenv(TZ_ENV_VAR, "Europe/London")
    [event] = CityCountPlugin().parse(ROW.encode())
    assert event.ts == datetime(2026, 11, 20, 8, 5, tzinfo=UTC)  # GMT == UTC in November


def test_time_zone_argument_beats_the_environment(monkeypatch):
    monkeypatch.setenv(TZ_ENV_VAR, "Europe/London")
    assert CityCountPlugin("Europe/Helsinki").tz == ZoneInfo("Europe/Helsinki")


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "Europe", "x" * 5000])
def test_unknown_time_zone_in_the_environment_fails_at_start(monkeypatch, name):
    monkeypatch.setenv(TZ_ENV_VAR, name)
    with pytest.raises(ValueError, match=TZ_ENV_VAR):
        CityCountPlugin()


def test_summer_time_is_applied(plugin):
    [event] = plugin.parse(ROW.replace("2026-11-20", "2026-07-20").encode())
    assert event.ts == datetime(2026, 7, 20, 6, 5, tzinfo=UTC)  # CEST is UTC+2


def test_a_bad_row_rejects_the_whole_payload_and_names_its_line(plugin):
    payload = f"{HEADER}\n{ROW}\n\n{ROW.replace(',open', ',busy')}\n"
    with pytest.raises(PayloadError, match=r"^line 4: state must be open, full, closed or empty"):
        plugin.parse(payload.encode())


def test_line_numbers_count_lines_inside_quoted_names(plugin):
    payload = f'FAC-004,"Stationsplein\nOost",2026-11-20 08:05,12,350,open\n{ROW},x\n'
    with pytest.raises(PayloadError, match=r"^line 3: expected 6 comma-separated fields"):
        plugin.parse(payload.encode())


def test_header_must_come_first(plugin):
    with pytest.raises(PayloadError, match=r"^line 2: a header row must be exactly .* come first"):
        plugin.parse(f"{ROW}\n{HEADER}\n".encode())


def test_header_only_payload_is_rejected(plugin):
    with pytest.raises(PayloadError, match=r"^payload has a header row but no data rows$"):
        plugin.parse(f"{HEADER}\r\n".encode())


def test_too_many_lines_are_rejected(plugin):
    with pytest.raises(PayloadError, match=f"at most {MAX_LINES}"):
        plugin.parse(f"{ROW}\n".encode() * (MAX_LINES + 1))
    assert len(plugin.parse(f"{ROW}\n".encode() * MAX_LINES)) == MAX_LINES


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("FAC-003,x,2026-11-20 08:05:00,,600,open", "occupied is empty"),
        ("FAC-003,x,2026-11-20 08:05:00,1e3,600,open", "occupied must be a whole number"),
        ("FAC-003,x,2026-11-20 08:05:00,NaN,600,open", "occupied must be a whole number"),
        ("FAC-003,x,2026-11-20 08:05:00,9999999999,600,open", "occupied has more than 9 digits"),
        ("FAC-003,x,2026-11-20 08:05:00,12,-600,open", "capacity must be a positive"),
        ("FAC-003,x,2026-02-30 08:05:00,12,600,open", "last_update must be a local time"),
        ("FAC-003,x,0001-01-01 00:00:00,12,600,open", "last_update .* out of the supported"),
        ("FAC<003>,x,2026-11-20 08:05:00,12,600,open", "facility_id: String should match"),
        ("FAC-003,x,2026-11-20 08:05:00,12,600,open,extra", "expected 6 comma-separated"),
        ('FAC-003,"x"y,2026-11-20 08:05:00,12,600,open', "not valid CSV"),
        ("FAC-003,x,2026-11-20 08:05:00,12,600\rFAC-004", "a line break \\(CR\\)"),
    ],
)
def test_bad_rows_say_which_field_and_why(plugin, row, reason):
    with pytest.raises(PayloadError, match=f"^line 1: {reason}") as caught:
        plugin.parse(row.encode())
    assert len(caught.value.reason) < 300


def test_simulate_renders_rows_in_the_plugins_own_zone(plugin):
    events = plugin.parse(sample(plugin, "city_feed_with_header_crlf.csv"))
    rendered = plugin.simulate(events, tz=ZoneInfo("America/New_York"))  # ignored
    assert rendered.decode().splitlines() == [
        "FAC-003,FAC-003,2026-11-19 17:30:00,598,600,open",
        "FAC-004,FAC-004,2026-11-19 17:30:00,350,350,full",
        "FAC-005,FAC-005,2026-11-19 17:29:41,0,,open",
        "FAC-006,FAC-006,2026-11-19 17:30:05,187,420,open",
    ]
    assert [e.model_dump(exclude={"ingested_at"}) for e in plugin.parse(rendered)] == [
        e.model_dump(exclude={"ingested_at"}) for e in events
    ]  # same car park and time, so even the event ids survive


def test_simulate_marks_above_capacity_as_full(plugin):
    [event] = plugin.parse(sample(plugin, "above_capacity.csv"))
    assert plugin.simulate([event]) == b"FAC-003,FAC-003,2026-11-14 14:20:00,615,600,full\n"


def test_simulate_refuses_other_event_types(plugin):
    from plugins.paymaster import PayMasterPlugin

    [payment] = PayMasterPlugin().parse(
        b"PAY;FAC-001-PS-1;FAC-001;20.11.2026 08:15:03;Europe/Amsterdam;1;;;350;EUR;CA;OK;\n"
    )
    with pytest.raises(ValueError, match="only counts"):
        plugin.simulate([payment])


INVALID_SAMPLES = [
    ("unknown_state.csv", "line 1: state must be open, full, closed or empty, got 'maintenance'"),
    ("fractional_count.csv", "occupied must be a whole number, got '412.5'"),
    ("zero_capacity.csv", "capacity must be a positive whole number or empty, got '0'"),
    ("iso_time_with_offset.csv", "last_update must be a local time 'YYYY-MM-DD HH:MM:SS'"),
    ("semicolon_separated.csv", "fields are separated by ';'"),
    ("unquoted_comma_in_name.csv", "got 7; quote names that contain commas"),
    ("unbalanced_quote.csv", "a quoted field is never closed"),
    ("far_future.csv", "in the future"),
    ("missing_carpark_id.csv", "carpark_id is empty"),
    ("empty_count_on_line_3.csv", "line 3: occupied is empty"),
]


@pytest.mark.parametrize(("name", "reason"), INVALID_SAMPLES)
def test_invalid_payloads_say_why(plugin, name, reason):
    payload = next(s.payload for s in plugin.invalid_samples() if s.name == name)
    with pytest.raises(PayloadError, match=reason):
        plugin.parse(payload)


def test_every_invalid_sample_has_its_reason_checked(plugin):
    assert {s.name for s in plugin.invalid_samples()} == {name for name, _ in INVALID_SAMPLES}
