"""BayLog bay sensor histories: contract, sign grammar, restriction in force, DST stays."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from parkflow.events import BayStatusEvent, EventType
from parkflow.registry import PluginRegistry
from parkflow.sdk import PayloadError, make_event_id
from parkflow.testing import SourcePluginContract
from plugins.baylog import HEADER, MAX_LINES, BayLogPlugin, Sign, parse_sign

MELBOURNE = ZoneInfo("Australia/Melbourne")
HEADER_LINE = ",".join(HEADER)
ROW = (
    "S-24011,Melbourne CBD,Queen St North,Bay 12,2026-11-20 09:12:30,2026-11-20 11:30:05,"
    "Australia/Melbourne,2P MTR M-SAT 7:30-20:30,true"
)
WEEKDAYS = frozenset(range(5))
ALL_WEEK = frozenset(range(7))


class TestBayLogContract(SourcePluginContract):
    plugin_class = BayLogPlugin


@pytest.fixture
def plugin() -> BayLogPlugin:
    return BayLogPlugin()


def sample(plugin: BayLogPlugin, name: str) -> bytes:
    return next(s.payload for s in plugin.samples() if s.name == name)


def export(*rows: str) -> bytes:
    return "\n".join([HEADER_LINE, *rows, ""]).encode()


def row_with(**changes: str) -> str:
    fields = dict(zip(HEADER, ROW.split(","), strict=True))
    fields.update(changes)
    return ",".join(fields[name] for name in HEADER)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_is_registered_as_a_shipped_plugin():
    registry = PluginRegistry.discover()
    assert "baylog" in registry.names()
    record = next(r for r in registry.records if r.name == "baylog")
    assert (record.package, record.entry_point) == ("parkflow", "plugins.baylog:BayLogPlugin")
    assert BayLogPlugin.simulates == frozenset()  # a stay needs both events: no simulator


def test_a_stay_maps_every_field(plugin):
    arrival, departure = plugin.parse(export(ROW))
    for event in (arrival, departure):
        assert isinstance(event, BayStatusEvent)
        assert event.event_type is EventType.BAY_STATUS
        assert event.source == "baylog"
        assert (event.facility_id, event.device_id) == ("Melbourne CBD", "S-24011")
        assert (event.zone_id, event.bay_id) == ("Queen St North", "Bay 12")
        assert event.flags == ()
    assert arrival.occupied is True
    assert arrival.ts == utc(2026, 11, 19, 22, 12, 30)  # AEDT, UTC+11
    assert arrival.max_stay_minutes == 120
    assert arrival.restricted_until == utc(2026, 11, 20, 9, 30)  # 20:30 AEDT
    assert arrival.in_violation is None
    assert departure.occupied is False
    assert departure.ts == utc(2026, 11, 20, 0, 30, 5)
    assert (departure.max_stay_minutes, departure.restricted_until) == (None, None)
    assert departure.in_violation is True
    key = ("S-24011", "2026-11-19T22:12:30+00:00")
    assert arrival.event_id == make_event_id("baylog", *key, "arrival")
    assert departure.event_id == make_event_id("baylog", *key, "departure")


def test_the_cbd_export_carries_the_restriction_in_force_at_each_arrival(plugin):
    events = plugin.parse(sample(plugin, "melbourne_cbd_export.csv"))
    arrivals = [e for e in events if e.occupied]
    got = [(e.bay_id, e.max_stay_minutes, e.restricted_until) for e in arrivals]
    assert got == [
        ("Bay 12", 120, utc(2026, 11, 20, 9, 30)),  # Fri 09:12 under 2P M-SAT 7:30-20:30
        ("Bay 13", 30, utc(2026, 11, 20, 7, 30)),  # Fri 10:02 under 1/2P M-F 7:30-18:30
        ("Bay 13", None, None),  # Fri 19:05: after the window
        ("FL-07", 5, utc(2026, 11, 21, 12, 59)),  # P5 M-SUN 0:00-23:59 ends at 23:59
        ("FL-08", 240, utc(2026, 11, 22, 7, 30)),  # Sun 13:00 under 4P SAT-SUN
        ("SW 3", None, None),  # Sunday under M-SAT
        ("LC 21", 60, utc(2026, 11, 23, 7, 30)),  # Mon 07:45 under 1P TKT A 7:30AM-6:30PM
        ("LC 22", None, None),  # no sign
    ]
    departures = [e for e in events if not e.occupied]
    assert [e.in_violation for e in departures] == [True, False, None, False, True, False, True]
    assert all(e.in_violation is None for e in arrivals[:-1])
    assert len(events) == 15  # LC 22 is still parked: its arrival only
    assert len({e.event_id for e in events}) == 15


def test_crlf_export_with_quotes_a_blank_line_and_a_stay_still_going(plugin):
    events = plugin.parse(sample(plugin, "docklands_crlf_still_parked.csv"))
    arrival, departure, parked = events
    assert arrival.zone_id == "Harbour Esplanade North"  # quoted in the file
    assert (arrival.max_stay_minutes, arrival.restricted_until) == (60, None)  # 1P: all day
    assert departure.in_violation is True  # TRUE
    assert parked.occupied and parked.bay_id == "Bay 5"
    assert (parked.max_stay_minutes, parked.restricted_until) == (120, utc(2026, 11, 24, 7, 30))


def test_a_verdict_on_a_stay_still_going_goes_on_its_arrival(plugin):
    [arrival] = plugin.parse(export(row_with(departure_time="", in_violation="Y")))
    assert arrival.occupied and arrival.in_violation is True


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("true", True), ("TRUE", True), ("True", True), ("1", True), ("Y", True), ("y", True),
        ("false", False), ("FALSE", False), ("0", False), ("N", False), ("n", False),
        ("", None),
    ],
)  # fmt: skip
def test_in_violation_values(plugin, text, verdict):
    _, departure = plugin.parse(export(row_with(in_violation=text)))
    assert departure.in_violation is verdict


# --- the sign and the restriction in force --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("2P MTR M-SAT 7:30-20:30", Sign(120, frozenset(range(6)), time(7, 30), time(20, 30))),
        ("1/2P M-F 7:30-18:30", Sign(30, WEEKDAYS, time(7, 30), time(18, 30))),
        ("1/4P M-F 7:30-18:30", Sign(15, WEEKDAYS, time(7, 30), time(18, 30))),
        ("4P SAT-SUN 7:30-18:30", Sign(240, frozenset({5, 6}), time(7, 30), time(18, 30))),
        ("P5 M-SUN 0:00-23:59", Sign(5, ALL_WEEK, time(0, 0), time(23, 59))),
        ("P10", Sign(10)),
        ("1P", Sign(60, ALL_WEEK)),
        ("1P SUN", Sign(60, frozenset({6}))),
        ("2P MON-FRI", Sign(120, WEEKDAYS)),
        ("2P T-TH", Sign(120, frozenset({1, 2, 3}))),
        ("2P TUE-THU", Sign(120, frozenset({1, 2, 3}))),
        ("2P W", Sign(120, frozenset({2}))),
        ("2P FRI-M", Sign(120, frozenset({4, 5, 6, 0}))),  # a range may wrap over Sunday
        ("3P 8:00-18:00", Sign(180, ALL_WEEK, time(8), time(18))),
        ("1P TKT A M-F 7:30AM-6:30PM", Sign(60, WEEKDAYS, time(7, 30), time(18, 30))),
        ("1P M-F 12:00AM-12:30PM", Sign(60, WEEKDAYS, time(0), time(12, 30))),
        ("2p mtr m-sat 7:30-20:30", Sign(120, frozenset(range(6)), time(7, 30), time(20, 30))),
        ("  2P   DISC  METER TICKET  M-F  7:30-18:30 ", Sign(120, WEEKDAYS, time(7, 30),
                                                          time(18, 30))),
        ("168P", Sign(7 * 24 * 60)),
        ("", None),
        ("   ", None),
    ],
)  # fmt: skip
def test_parse_sign_reads_melbourne_signs(text, sign):
    assert parse_sign(text) == sign


@pytest.mark.parametrize(
    "text",
    [
        "XYZ",
        "MTR 2P",  # the duration comes first
        "0P",
        "P0",
        "169P",  # more than a week
        "P99999",
        "1/3P",
        "2 P",
        "2P M-SAT 7:30-20:30 MTR",  # words come before the days
        "2P M-F MTR 7:30-18:30",
        "2P 7:30-18:30 M-F",  # the window comes last
        "2P M-F SAT 7:30-18:30",  # one day range
        "2P M-F 7:30-18:30 9:00-12:00",  # one window
        "2P M-XYZ 7:30-18:30",
        "2P M-F 7:30-24:00",
        "2P M-F 7:60-18:30",
        "2P M-F 20:30-7:30",  # past midnight
        "2P M-F 7:30-7:30",
        "2P M-F 7:30AM-18:30",  # AM/PM on both ends or neither
        "2P M-F 13:30PM-6:30PM",
        "2P M-F 7.30-18.30",
        "2P MTR M-SAT 7:30-20:30 XYZ-FOO 99",
        "LZ 30M M-SAT 7:30-20:30",
        "2P MTR\u00c9 M-F",
    ],
)
def test_parse_sign_rejects_what_is_not_a_sign(text):
    with pytest.raises(PayloadError, match=r"^sign .* is not a restriction such as '2P MTR"):
        parse_sign(text)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=MELBOURNE)


@pytest.mark.parametrize(
    ("sign", "arrival", "restriction"),
    [
        # 2026-11-20 is a Friday, 11-21 a Saturday, 11-22 a Sunday
        ("2P MTR M-SAT 7:30-20:30", local(2026, 11, 20, 7, 30), (120, utc(2026, 11, 20, 9, 30))),
        ("2P M-SAT 7:30-20:30", local(2026, 11, 21, 20, 29, 59), (120, utc(2026, 11, 21, 9, 30))),
        ("2P MTR M-SAT 7:30-20:30", local(2026, 11, 20, 7, 29, 59), None),  # before the window
        ("2P MTR M-SAT 7:30-20:30", local(2026, 11, 20, 20, 30), None),  # the window has ended
        ("2P MTR M-SAT 7:30-20:30", local(2026, 11, 20, 21, 0), None),
        ("2P MTR M-SAT 7:30-20:30", local(2026, 11, 22, 10, 0), None),  # Sunday
        ("4P SAT-SUN 7:30-18:30", local(2026, 11, 22, 10, 0), (240, utc(2026, 11, 22, 7, 30))),
        ("4P SAT-SUN 7:30-18:30", local(2026, 11, 20, 10, 0), None),  # Friday
        ("1P SUN", local(2026, 11, 22, 23, 0), (60, None)),  # no window: all day
        ("1P SUN", local(2026, 11, 21, 23, 0), None),
        ("1P", local(2026, 11, 21, 3, 0), (60, None)),  # no days, no window: always
        ("P5 M-SUN 0:00-23:59", local(2026, 11, 22, 0, 0), (5, utc(2026, 11, 22, 12, 59))),
        ("P5 M-SUN 0:00-23:59", local(2026, 11, 22, 23, 59, 30), None),
        ("1/2P 7:30AM-6:30PM", local(2026, 7, 1, 18, 0), (30, utc(2026, 7, 1, 8, 30))),  # AEST
    ],
)  # fmt: skip
def test_the_restriction_in_force_at_an_arrival(sign, arrival, restriction):
    parsed = parse_sign(sign)
    assert parsed is not None
    assert parsed.restriction_at(arrival) == restriction


def test_a_window_ending_after_the_dst_change_ends_in_standard_time():
    # Sunday 5 April 2026: AEDT (UTC+11) until 03:00, then AEST (UTC+10)
    sign = parse_sign("P5 M-SUN 0:00-23:59")
    assert sign is not None
    assert sign.restriction_at(local(2026, 4, 5, 2, 40)) == (5, utc(2026, 4, 5, 13, 59))


def test_an_arrival_in_the_spring_forward_gap_after_the_window_gets_no_restriction():
    # Sunday 4 October 2026: 02:00 AEST jumps to 03:00 AEDT, so 02:30 does not exist
    sign = parse_sign("1P M-SUN 0:00-3:00")
    assert sign is not None
    assert sign.restriction_at(local(2026, 10, 4, 1, 30)) == (60, utc(2026, 10, 3, 16))
    assert sign.restriction_at(local(2026, 10, 4, 2, 30)) is None


def test_no_sign_means_no_restriction(plugin):
    arrival, _ = plugin.parse(export(row_with(sign="")))
    assert (arrival.max_stay_minutes, arrival.restricted_until) == (None, None)


def test_an_unreadable_sign_rejects_the_payload_with_its_line(plugin):
    payload = export(ROW, row_with(sign="XYZ"))
    with pytest.raises(
        PayloadError,
        match=r"^line 3: sign 'XYZ' is not a restriction such as '2P MTR M-SAT 7:30-20:30'$",
    ):
        plugin.parse(payload)


# --- daylight saving time ----------------------------------------------------------------


def test_stays_across_the_end_of_daylight_saving(plugin):
    events = plugin.parse(sample(plugin, "dst_end_carlton.csv"))
    stays = [(a.ts, d.ts) for a, d in zip(events[::2], events[1::2], strict=True)]
    assert [e.occupied for e in events] == [True, False] * 4
    assert stays == [
        (utc(2026, 4, 4, 12, 30), utc(2026, 4, 4, 14, 15)),  # 23:30 -> 01:15 AEDT
        # 01:50 -> 02:20: the earlier 02:20 (AEDT) is after the arrival, so it is taken
        (utc(2026, 4, 4, 14, 50), utc(2026, 4, 4, 15, 20)),
        # 02:40 (first round, AEDT) -> 02:10: only the second round (AEST) is after it
        (utc(2026, 4, 4, 15, 40), utc(2026, 4, 4, 16, 10)),
        (utc(2026, 4, 4, 17, 30), utc(2026, 4, 4, 18, 0)),  # 03:30 -> 04:00 AEST
    ]
    assert [d - a for a, d in stays][1:3] == [timedelta(minutes=30)] * 2
    # Saturday 23:30 is after 20:30, the others are on a Sunday: no restriction under M-SAT
    assert all(e.max_stay_minutes is None for e in events)


def test_an_arrival_in_the_repeated_hour_is_its_first_round(plugin):
    row = row_with(
        arrival_time="2026-04-05 02:40:00", departure_time="2026-04-05 02:50:00", sign=""
    )
    arrival, departure = plugin.parse(export(row))
    assert (arrival.ts, departure.ts) == (utc(2026, 4, 4, 15, 40), utc(2026, 4, 4, 15, 50))


@pytest.mark.parametrize(
    ("arrival", "departure"),
    [
        ("2026-04-05 03:30:00", "2026-04-05 02:50:00"),  # 03:30 AEST is after both 02:50s
        ("2026-04-05 02:40:00", "2026-04-05 01:30:00"),
        ("2026-11-20 09:12:30", "2026-11-20 09:12:30"),  # a stay of no time
    ],
)
def test_a_departure_not_after_its_arrival_is_rejected(plugin, arrival, departure):
    row = row_with(arrival_time=arrival, departure_time=departure)
    with pytest.raises(
        PayloadError,
        match=f"^line 2: departure_time '{departure}' is not after arrival_time '{arrival}'$",
    ):
        plugin.parse(export(row))


# --- ids, header, lines ------------------------------------------------------------------


def test_a_resent_export_keeps_its_event_ids(plugin):
    first = plugin.parse(export(ROW))
    again = plugin.parse(f"{HEADER_LINE}\r\n\r\n{ROW}\r\n".encode())
    assert [e.event_id for e in first] == [e.event_id for e in again]
    ended_later = plugin.parse(export(row_with(departure_time="2026-11-20 12:00:00")))
    assert [e.event_id for e in ended_later] == [e.event_id for e in first]


def test_another_arrival_or_sensor_is_another_stay(plugin):
    [arrival, _] = plugin.parse(export(ROW))
    [later, _] = plugin.parse(export(row_with(arrival_time="2026-11-20 09:12:31")))
    [other, _] = plugin.parse(export(row_with(device_id="S-24012")))
    assert len({arrival.event_id, later.event_id, other.event_id}) == 3


def test_a_bad_row_rejects_the_whole_payload_and_names_its_line(plugin):
    payload = export(ROW, "", row_with(arrival_time="2026-11-20 09:30:00"), row_with(tz="Mars"))
    with pytest.raises(PayloadError, match=r"^line 5: unknown time zone 'Mars'$"):
        plugin.parse(payload)


def test_the_header_is_optional_so_a_file_can_be_sent_row_by_row(plugin):
    def fields(payload: bytes) -> list[dict]:
        return [e.model_dump(exclude={"ingested_at"}) for e in plugin.parse(payload)]

    assert fields(f"{ROW}\n".encode()) == fields(export(ROW))


def test_the_header_must_come_first(plugin):
    with pytest.raises(
        PayloadError, match=r"^line 3: a header row must be exactly '.*' and come first$"
    ):
        plugin.parse(export(ROW, HEADER_LINE, ROW))


def test_a_header_in_another_case_is_named(plugin):
    with pytest.raises(PayloadError, match=r"^line 1: a header row must be exactly 'device_id,"):
        plugin.parse(export(ROW).replace(b"device_id,facility", b"DEVICE_ID,Facility", 1))


def test_a_header_only_payload_is_rejected(plugin):
    with pytest.raises(PayloadError, match=r"^payload has a header row but no data rows$"):
        plugin.parse(f"\n{HEADER_LINE}\n\n".encode())


def test_too_many_lines_are_rejected(plugin):
    rows = [row_with(arrival_time=f"2026-11-20 09:{m:02d}:{s:02d}") for m in range(60)
            for s in range(60)]  # fmt: skip
    rows = (rows * 3)[: MAX_LINES - 1]
    assert len(plugin.parse(export(*rows))) == 2 * (MAX_LINES - 1)
    with pytest.raises(PayloadError, match=f"at most {MAX_LINES}"):
        plugin.parse(export(*rows, ROW))


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("device_id", "", "device_id is empty"),
        ("facility", "", "facility is empty"),
        ("zone", "", "zone is empty"),
        ("bay", "", "bay is empty"),
        ("bay", "Bay 12 ", "bay_id: String should match pattern"),
        ("bay", "<b>12</b>", "bay_id: String should match pattern"),
        ("tz", "", "tz is empty"),
        ("tz", "Australia", "unknown time zone 'Australia'"),
        ("tz", "A" * 5000, "unknown time zone"),
        ("arrival_time", "", "arrival_time is empty"),
        ("arrival_time", "2026-11-20T09:12:30", "arrival_time must be a local time"),
        ("arrival_time", "2026-02-30 09:12:30", "arrival_time must be a local time"),
        ("arrival_time", "0001-01-01 00:00:00", "arrival_time .* is out of the supported"),
        ("arrival_time", "2099-11-20 09:12:30", "departure_time .* is not after"),
        ("departure_time", "20.11.2026 11:30:05", "departure_time must be a local time"),
        ("departure_time", "2099-11-20 11:30:05", "ts: .* in the future"),
        ("in_violation", "maybe", "in_violation must be true, false, 1, 0, Y, N or empty"),
        ("in_violation", "yes", "in_violation must be true, false"),
    ],
)
def test_bad_fields_say_which_and_why(plugin, field, value, reason):
    with pytest.raises(PayloadError, match=f"^line 2: {reason}") as caught:
        plugin.parse(export(row_with(**{field: value})))
    assert len(caught.value.reason) < 300


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (ROW + ",extra", "expected 9 comma-separated fields"),
        (ROW.replace(",", ";"), "expected 9 comma-separated fields .* got 1"),
        ('S-1,"Melbourne CBD,Queen St North,Bay 12', r"a quoted field is never closed"),
    ],
)
def test_rows_that_are_not_nine_fields(plugin, row, reason):
    with pytest.raises(PayloadError, match=f"^line 2: {reason}"):
        plugin.parse(export(row))


INVALID_SAMPLES = [
    (
        "unreadable_sign.csv",
        "^line 2: sign 'LOADING ZONE 30M' is not a restriction such as '2P MTR M-SAT 7:30-20:30'$",
    ),
    (
        "departure_before_arrival.csv",
        "^line 3: departure_time '2026-11-20 11:10:00' is not after arrival_time "
        "'2026-11-20 11:30:00'$",
    ),
    ("misspelt_header.csv", "^line 1: a header row must be exactly 'device_id,"),
    ("misspelt_time_zone.csv", "^line 2: unknown time zone 'Australia/Melboune'$"),
    ("bad_in_violation.csv", "^line 2: in_violation must be true, false, .* got 'maybe'$"),
]


@pytest.mark.parametrize(("name", "reason"), INVALID_SAMPLES)
def test_invalid_payloads_say_why(plugin, name, reason):
    payload = next(s.payload for s in plugin.invalid_samples() if s.name == name)
    with pytest.raises(PayloadError, match=reason):
        plugin.parse(payload)


def test_every_invalid_sample_has_its_reason_checked(plugin):
    assert {s.name for s in plugin.invalid_samples()} == {name for name, _ in INVALID_SAMPLES}
