"""Device rules: telemetry readings and silences become alerts, a health score and a status."""

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from parkflow.events import TelemetryEvent
from parkflow.records import AlertRecord, AlertSeverity, AlertState, AlertType
from streaming.rules.alerts import alert_key, resolve_alert
from streaming.rules.devices import DeviceMonitor, LastSeen, score

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_ids = itertools.count()


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def reading(
    ts: datetime = T0,
    *,
    device: str = "GATE-1",
    facility: str = "FAC-001",
    voltage: float = 230.0,
    current: float = 2.0,
    power: float | None = None,
) -> TelemetryEvent:
    return TelemetryEvent(
        event_id=f"t-{next(_ids)}",
        facility_id=facility,
        device_id=device,
        ts=ts,
        source="voltwatch",
        voltage_v=voltage,
        current_a=current,
        power_w=power,
    )


def high(ts: datetime = T0, **changes) -> TelemetryEvent:
    return reading(ts, power=2310.0, **changes)


def monitor() -> tuple[DeviceMonitor, dict, dict]:
    last_seen: dict[str, LastSeen] = {}
    open_alerts: dict[str, AlertRecord] = {}
    return DeviceMonitor(last_seen, open_alerts), last_seen, open_alerts


def kinds(alerts: list[AlertRecord]) -> list[tuple[AlertType, AlertState]]:
    return [(a.alert_type, a.state) for a in alerts]


# --- normal readings ----------------------------------------------------------------------


def test_a_normal_reading_opens_nothing_and_records_where_and_when_the_device_was_seen():
    rules, last_seen, open_alerts = monitor()
    assert rules.on_telemetry(reading(at(1))) == []
    assert last_seen == {"GATE-1": LastSeen(facility_id="FAC-001", ts=at(1))}
    assert open_alerts == {}


# --- high power ---------------------------------------------------------------------------


def test_power_above_2000_w_opens_a_critical_high_power_alert():
    rules, _, open_alerts = monitor()
    [alert] = rules.on_telemetry(high(at(1)))
    assert alert.alert_type is AlertType.HIGH_POWER
    assert alert.severity is AlertSeverity.CRITICAL
    assert alert.state is AlertState.OPEN
    assert alert.alert_id == AlertRecord.make_id("GATE-1", AlertType.HIGH_POWER, at(1))
    assert (alert.facility_id, alert.subject_id) == ("FAC-001", "GATE-1")
    assert alert.opened_at == alert.ts == at(1)
    assert alert.resolved_at is None
    assert alert.value == 2310.0
    assert alert.detail == "power 2310 W above 2000 W"
    assert alert.version == 1
    assert open_alerts == {"GATE-1|HIGH_POWER": alert}


def test_power_of_exactly_2000_w_is_not_high():
    rules, _, _ = monitor()
    assert rules.on_telemetry(reading(power=2000.0)) == []


def test_power_is_voltage_times_current_when_the_device_does_not_report_it():
    rules, _, _ = monitor()
    [alert] = rules.on_telemetry(reading(voltage=230.0, current=9.0))
    assert alert.alert_type is AlertType.HIGH_POWER
    assert alert.value == 2070.0


def test_a_second_high_reading_does_not_open_a_second_alert():
    rules, _, open_alerts = monitor()
    [first] = rules.on_telemetry(high(at(1)))
    assert rules.on_telemetry(high(at(2))) == []
    assert open_alerts == {"GATE-1|HIGH_POWER": first}


def test_a_reading_at_or_below_2000_w_resolves_high_power():
    rules, _, open_alerts = monitor()
    [opened] = rules.on_telemetry(high(at(1)))
    [resolved] = rules.on_telemetry(reading(at(3), power=2000.0))
    assert resolved.alert_id == opened.alert_id
    assert resolved.state is AlertState.RESOLVED
    assert resolved.resolved_at == resolved.ts == at(3)
    assert resolved.opened_at == at(1)
    assert resolved.version == 2
    assert (resolved.value, resolved.detail) == (opened.value, opened.detail)
    assert open_alerts == {}


def test_high_power_after_a_resolution_opens_a_new_alert_with_a_new_id():
    rules, _, _ = monitor()
    [first] = rules.on_telemetry(high(at(1)))
    rules.on_telemetry(reading(at(2)))
    [second] = rules.on_telemetry(high(at(3)))
    assert second.state is AlertState.OPEN
    assert second.alert_id != first.alert_id
    assert second.opened_at == at(3)


# --- invalid data -------------------------------------------------------------------------


def test_current_above_100_a_opens_an_invalid_data_warning():
    rules, _, open_alerts = monitor()
    [alert] = rules.on_telemetry(reading(at(1), current=150.0, power=100.0))
    assert alert.alert_type is AlertType.INVALID_DATA
    assert alert.severity is AlertSeverity.WARNING
    assert alert.value == 150.0
    assert alert.detail == "current 150 A above 100 A"
    assert alert.opened_at == alert.ts == at(1)
    assert list(open_alerts) == ["GATE-1|INVALID_DATA"]


def test_voltage_above_500_v_opens_an_invalid_data_warning():
    rules, _, _ = monitor()
    [alert] = rules.on_telemetry(reading(voltage=620.5, current=0.5))
    assert alert.alert_type is AlertType.INVALID_DATA
    assert alert.value == 620.5
    assert alert.detail == "voltage 620.5 V above 500 V"


def test_current_and_voltage_both_out_of_range_make_one_alert_naming_both():
    rules, _, _ = monitor()
    [alert] = rules.on_telemetry(reading(voltage=620.0, current=150.0))
    assert alert.alert_type is AlertType.INVALID_DATA
    assert alert.value == 150.0  # the current, named first
    assert alert.detail == "current 150 A above 100 A, voltage 620 V above 500 V"


def test_exactly_100_a_and_exactly_500_v_are_valid():
    rules, _, _ = monitor()
    assert rules.on_telemetry(reading(voltage=500.0, current=100.0, power=1500.0)) == []


def test_a_second_invalid_reading_does_not_open_a_second_alert():
    rules, _, open_alerts = monitor()
    [first] = rules.on_telemetry(reading(at(1), current=150.0))
    assert rules.on_telemetry(reading(at(2), current=180.0)) == []
    assert open_alerts == {"GATE-1|INVALID_DATA": first}


def test_a_valid_reading_resolves_invalid_data():
    rules, _, open_alerts = monitor()
    [opened] = rules.on_telemetry(reading(at(1), current=150.0))
    [resolved] = rules.on_telemetry(reading(at(2)))
    assert resolved.alert_id == opened.alert_id
    assert resolved.state is AlertState.RESOLVED
    assert resolved.resolved_at == resolved.ts == at(2)
    assert resolved.version == 2
    assert open_alerts == {}


# --- high power vs invalid data -----------------------------------------------------------


def test_an_invalid_reading_never_opens_high_power_however_high_its_power():
    rules, _, open_alerts = monitor()
    [alert] = rules.on_telemetry(reading(voltage=230.0, current=150.0))  # 34,500 W
    assert alert.alert_type is AlertType.INVALID_DATA
    assert list(open_alerts) == ["GATE-1|INVALID_DATA"]


def test_an_invalid_reading_does_not_resolve_an_open_high_power_alert():
    rules, _, open_alerts = monitor()
    [power] = rules.on_telemetry(high(at(1)))
    changes = rules.on_telemetry(reading(at(2), current=150.0, power=100.0))
    assert kinds(changes) == [(AlertType.INVALID_DATA, AlertState.OPEN)]
    assert open_alerts["GATE-1|HIGH_POWER"] == power


def test_a_valid_reading_resolves_invalid_data_and_is_judged_for_power_in_the_same_step():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(1), current=150.0))
    changes = rules.on_telemetry(high(at(2)))
    assert kinds(changes) == [
        (AlertType.INVALID_DATA, AlertState.RESOLVED),
        (AlertType.HIGH_POWER, AlertState.OPEN),
    ]


# --- offline ------------------------------------------------------------------------------


def test_a_device_is_not_offline_just_before_2_minutes_of_silence():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(1)))
    almost = at(3) - timedelta(microseconds=1)
    assert rules.check_offline(almost) == []


def test_a_device_is_offline_after_exactly_2_minutes_of_silence():
    rules, _, open_alerts = monitor()
    rules.on_telemetry(reading(at(1)))
    [alert] = rules.check_offline(at(3))
    assert alert.alert_type is AlertType.OFFLINE
    assert alert.severity is AlertSeverity.WARNING
    assert alert.state is AlertState.OPEN
    assert (alert.facility_id, alert.subject_id) == ("FAC-001", "GATE-1")
    assert alert.opened_at == at(3)
    assert alert.alert_id == AlertRecord.make_id("GATE-1", AlertType.OFFLINE, at(3))
    assert alert.value == 120.0
    assert alert.detail == "no telemetry since 2026-11-20T08:01:00+00:00 (limit 120 s)"
    assert list(open_alerts) == ["GATE-1|OFFLINE"]


def test_an_offline_alert_opens_when_the_device_went_silent_and_is_stamped_with_the_check():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(1)))
    [alert] = rules.check_offline(at(10))
    assert alert.opened_at == at(3)  # last reading + 2 minutes
    assert alert.ts == at(10)
    assert alert.value == 540.0  # seconds of silence at the check


def test_offline_checks_are_idempotent():
    rules, _, open_alerts = monitor()
    rules.on_telemetry(reading(at(1)))
    [alert] = rules.check_offline(at(3))
    assert rules.check_offline(at(3)) == []
    assert rules.check_offline(at(30)) == []
    assert open_alerts == {"GATE-1|OFFLINE": alert}


def test_only_silent_devices_go_offline():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(0), device="GATE-1"))
    rules.on_telemetry(reading(at(1), device="GATE-2", facility="FAC-002"))
    [alert] = rules.check_offline(at(2, 30))
    assert alert.subject_id == "GATE-1"


def test_telemetry_after_a_silence_resolves_offline():
    rules, _, open_alerts = monitor()
    rules.on_telemetry(reading(at(1)))
    [opened] = rules.check_offline(at(5))
    [resolved] = rules.on_telemetry(reading(at(6)))
    assert resolved.alert_id == opened.alert_id
    assert resolved.alert_type is AlertType.OFFLINE
    assert resolved.state is AlertState.RESOLVED
    assert resolved.resolved_at == resolved.ts == at(6)
    assert resolved.version == 2
    assert open_alerts == {}


def test_a_returning_device_is_judged_on_its_reading_too():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(1)))
    rules.check_offline(at(5))
    changes = rules.on_telemetry(high(at(6)))
    assert kinds(changes) == [
        (AlertType.OFFLINE, AlertState.RESOLVED),
        (AlertType.HIGH_POWER, AlertState.OPEN),
    ]


def test_a_device_can_go_offline_again_after_it_came_back():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(1)))
    [first] = rules.check_offline(at(5))
    rules.on_telemetry(reading(at(6)))
    assert rules.check_offline(at(7)) == []
    [second] = rules.check_offline(at(8))
    assert second.opened_at == at(8)
    assert second.alert_id != first.alert_id


def test_a_delayed_reading_never_resolves_offline_before_it_opened():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(0)))
    [opened] = rules.check_offline(at(5))  # opened at 08:02
    [resolved] = rules.on_telemetry(reading(at(1)))  # newer than 08:00, but delivered late
    assert resolved.resolved_at == opened.opened_at == at(2)
    assert resolved.ts == at(1)


def test_resolving_an_alert_never_puts_its_end_before_its_start():
    alert = AlertRecord(
        alert_id="a",
        alert_type=AlertType.OFFLINE,
        severity=AlertSeverity.WARNING,
        state=AlertState.OPEN,
        facility_id="FAC-001",
        subject_id="GATE-1",
        opened_at=at(5),
        ts=at(5),
        detail="x",
    )
    assert resolve_alert(alert, at(4)).resolved_at == at(5)
    assert resolve_alert(alert, at(6)).resolved_at == at(6)


# --- out-of-order readings ----------------------------------------------------------------


def test_a_reading_older_than_the_latest_opens_nothing_and_does_not_move_last_seen_back():
    rules, last_seen, open_alerts = monitor()
    rules.on_telemetry(reading(at(5)))
    assert rules.on_telemetry(high(at(4))) == []
    assert rules.on_telemetry(reading(at(4), current=150.0)) == []
    assert last_seen["GATE-1"].ts == at(5)
    assert open_alerts == {}


def test_a_reading_older_than_the_latest_resolves_nothing():
    rules, _, open_alerts = monitor()
    rules.on_telemetry(high(at(5)))
    rules.check_offline(at(8))
    assert rules.on_telemetry(reading(at(4))) == []
    assert set(open_alerts) == {"GATE-1|HIGH_POWER", "GATE-1|OFFLINE"}


def test_a_reading_with_the_same_time_as_the_latest_is_applied():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(5)))
    [alert] = rules.on_telemetry(high(at(5)))
    assert alert.alert_type is AlertType.HIGH_POWER


def test_out_of_order_is_judged_per_device():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(5), device="GATE-1"))
    [alert] = rules.on_telemetry(high(at(4), device="GATE-2"))
    assert alert.subject_id == "GATE-2"


# --- thresholds ---------------------------------------------------------------------------


def test_thresholds_are_configurable():
    rules = DeviceMonitor(
        {},
        {},
        offline_after=timedelta(minutes=10),
        max_power_w=500.0,
        max_current_a=10.0,
        max_voltage_v=250.0,
    )
    [power] = rules.on_telemetry(reading(at(0), voltage=230.0, current=2.5))  # 575 W
    assert power.detail == "power 575 W above 500 W"
    [invalid] = rules.on_telemetry(reading(at(1), voltage=260.0, current=1.0))
    assert invalid.detail == "voltage 260 V above 250 V"
    assert rules.check_offline(at(10, 59)) == []
    assert len(rules.check_offline(at(11))) == 1


# --- health score -------------------------------------------------------------------------


def test_a_fresh_device_without_alerts_scores_100():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(0)))
    assert rules.health_score("GATE-1", at(1)) == 100


def test_each_open_alert_costs_10_points():
    rules, _, _ = monitor()
    rules.on_telemetry(high(at(0)))
    assert rules.health_score("GATE-1", at(0)) == 90
    rules.on_telemetry(reading(at(1), current=150.0, power=100.0))  # keeps HIGH_POWER open
    assert rules.health_score("GATE-1", at(1)) == 80


def test_telemetry_5_minutes_old_costs_30_points_but_not_a_moment_earlier():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(0)))
    assert rules.health_score("GATE-1", at(5) - timedelta(microseconds=1)) == 100
    assert rules.health_score("GATE-1", at(5)) == 70


def test_a_silent_device_loses_points_for_its_offline_alert_and_for_being_stale():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(0)))
    rules.check_offline(at(3))
    assert rules.health_score("GATE-1", at(3)) == 90
    assert rules.health_score("GATE-1", at(6)) == 60


def test_a_device_that_never_reported_scores_70():
    rules, _, _ = monitor()
    assert rules.health_score("NEVER-SEEN", at(0)) == 70


def test_the_worst_real_device_scores_40():
    rules, _, _ = monitor()
    rules.on_telemetry(high(at(0)))
    rules.on_telemetry(reading(at(1), current=150.0, power=100.0))
    rules.check_offline(at(10))
    assert rules.health_score("GATE-1", at(10)) == 100 - 3 * 10 - 30


def test_alerts_of_other_devices_do_not_count():
    rules, _, _ = monitor()
    rules.on_telemetry(high(at(0), device="GATE-2"))
    rules.on_telemetry(reading(at(0), device="GATE-1"))
    assert rules.health_score("GATE-1", at(0)) == 100


@pytest.mark.parametrize(
    ("open_alerts", "stale", "expected"),
    [
        (0, False, 100),
        (1, False, 90),
        (0, True, 70),
        (2, True, 50),
        (7, True, 0),
        (8, True, 0),  # 100 - 80 - 30 = -10, clamped
        (12, False, 0),
        (-1, False, 100),  # never above 100
    ],
)
def test_health_score_arithmetic_is_clamped_to_0_100(open_alerts, stale, expected):
    assert score(open_alerts, stale) == expected


# --- device list --------------------------------------------------------------------------


def test_the_device_list_has_one_row_per_device_by_facility_then_device():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(0), device="GATE-2", facility="FAC-002"))
    rules.on_telemetry(reading(at(0), device="GATE-9"))
    rules.on_telemetry(high(at(1), device="GATE-1"))
    rows = rules.devices(at(1, 30))
    assert [(r.facility_id, r.device_id) for r in rows] == [
        ("FAC-001", "GATE-1"),
        ("FAC-001", "GATE-9"),
        ("FAC-002", "GATE-2"),
    ]
    first = rows[0]
    assert first.last_seen == at(1)
    assert first.seconds_since == 30.0
    assert first.open_alerts == [AlertType.HIGH_POWER]
    assert first.health_score == 90
    assert first.status == "CRITICAL"
    assert first.model_dump(mode="json")["open_alerts"] == ["HIGH_POWER"]


def test_device_status_is_ok_without_alerts_and_warning_with_a_warning_alert():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(0), device="GATE-1"))
    rules.on_telemetry(reading(at(0), device="GATE-2", current=150.0))
    statuses = {row.device_id: row.status for row in rules.devices(at(1))}
    assert statuses == {"GATE-1": "OK", "GATE-2": "WARNING"}


def test_an_offline_device_shows_offline_even_with_a_critical_alert_open():
    rules, _, _ = monitor()
    rules.on_telemetry(high(at(0)))
    rules.check_offline(at(3))
    [row] = rules.devices(at(3))
    assert row.status == "OFFLINE"
    assert row.open_alerts == [AlertType.OFFLINE, AlertType.HIGH_POWER]


def test_a_silent_device_shows_offline_before_the_next_offline_check_has_run():
    rules, _, open_alerts = monitor()
    rules.on_telemetry(reading(at(0)))
    assert rules.devices(at(2) - timedelta(microseconds=1))[0].status == "OK"
    assert rules.devices(at(2))[0].status == "OFFLINE"
    assert open_alerts == {}


def test_seconds_since_is_never_negative_when_the_clock_is_behind_the_event_time():
    rules, _, _ = monitor()
    rules.on_telemetry(reading(at(1)))
    assert rules.devices(at(0, 30))[0].seconds_since == 0.0


def test_the_device_list_is_empty_before_any_telemetry():
    rules, _, _ = monitor()
    assert rules.devices(at(0)) == []


# --- restart ------------------------------------------------------------------------------


def test_state_survives_a_restart_over_the_same_mappings():
    first, last_seen, open_alerts = monitor()
    first.on_telemetry(high(at(0)))
    [offline] = first.check_offline(at(3))

    second = DeviceMonitor(last_seen, open_alerts)
    assert second.check_offline(at(4)) == []
    assert second.on_telemetry(reading(at(-1))) == []  # still knows the latest reading
    assert second.health_score("GATE-1", at(4)) == 80
    changes = second.on_telemetry(reading(at(5)))
    assert kinds(changes) == [
        (AlertType.OFFLINE, AlertState.RESOLVED),
        (AlertType.HIGH_POWER, AlertState.RESOLVED),
    ]
    assert changes[0].alert_id == offline.alert_id
    assert [c.version for c in changes] == [2, 2]


def test_state_round_trips_through_json_as_a_changelog_would_store_it():
    first, last_seen, open_alerts = monitor()
    first.on_telemetry(reading(at(0), current=150.0))
    first.check_offline(at(3))

    stored = json.dumps(
        {
            "last_seen": {k: v.model_dump(mode="json") for k, v in last_seen.items()},
            "open_alerts": {k: v.model_dump(mode="json") for k, v in open_alerts.items()},
        }
    )
    restored = json.loads(stored)
    last_seen_2 = {k: LastSeen.model_validate(v) for k, v in restored["last_seen"].items()}
    open_alerts_2 = {k: AlertRecord.model_validate(v) for k, v in restored["open_alerts"].items()}
    assert (last_seen_2, open_alerts_2) == (last_seen, open_alerts)

    second = DeviceMonitor(last_seen_2, open_alerts_2)
    assert second.check_offline(at(4)) == []
    changes = second.on_telemetry(reading(at(5)))
    assert kinds(changes) == [
        (AlertType.OFFLINE, AlertState.RESOLVED),
        (AlertType.INVALID_DATA, AlertState.RESOLVED),
    ]


def test_open_alerts_are_keyed_by_device_and_type():
    assert alert_key("GATE-1", AlertType.HIGH_POWER) == "GATE-1|HIGH_POWER"
