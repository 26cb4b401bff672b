"""Occupancy rules: live counts per facility and zone, capacity alerts and the live snapshot."""

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from parkflow.events import (
    BayStatusEvent,
    EntryEvent,
    ExitEvent,
    OccupancyCountEvent,
    PaymentEvent,
    PaymentMethod,
    PaymentStatus,
    TelemetryEvent,
)
from parkflow.records import AlertRecord, AlertSeverity, AlertState, AlertType
from streaming.rules.occupancy import OccupancyRow, OccupancyTracker, bay_key, subject_key

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CAPACITIES = {"FAC-001": 10, "FAC-001/Z-1": 4, "FAC-002": 400}
_ids = itertools.count()


def at(minutes: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def base(ts: datetime, facility: str) -> dict:
    return {
        "event_id": f"e-{next(_ids)}",
        "facility_id": facility,
        "device_id": "DEV-1",
        "ts": ts,
        "source": "sim",
    }


def vehicle(ts: datetime, facility: str) -> dict:
    return {**base(ts, facility), "plate": "AB123C", "plate_confidence": 0.9, "lane": "1"}


def entry(ts: datetime = T0, facility: str = "FAC-001") -> EntryEvent:
    return EntryEvent(**vehicle(ts, facility), gate_id="G-IN")


def exit_(ts: datetime = T0, facility: str = "FAC-001") -> ExitEvent:
    return ExitEvent(**vehicle(ts, facility), gate_id="G-OUT")


def bay(
    bay_id: str, occupied: bool, ts: datetime = T0, zone: str = "Z-1", facility: str = "FAC-001"
) -> BayStatusEvent:
    return BayStatusEvent(**base(ts, facility), zone_id=zone, bay_id=bay_id, occupied=occupied)


def count(
    occupied: int, ts: datetime = T0, facility: str = "FAC-001", zone: str | None = None
) -> OccupancyCountEvent:
    return OccupancyCountEvent(**base(ts, facility), occupied=occupied, zone_id=zone)


def tracker(capacities: dict[str, int] | None = None, **options) -> OccupancyTracker:
    capacities = CAPACITIES if capacities is None else capacities
    return OccupancyTracker({}, {}, {}, capacities, **options)


def feed(rules: OccupancyTracker, events) -> list[AlertRecord]:
    alerts: list[AlertRecord] = []
    for event in events:
        alerts += rules.on_event(event)
    return alerts


def kinds(alerts: list[AlertRecord]) -> list[tuple[AlertType, AlertState]]:
    return [(a.alert_type, a.state) for a in alerts]


# --- gated facilities: entries minus exits ------------------------------------------------


def test_entries_add_one_and_exits_subtract_one_from_the_facility_count():
    rules = tracker()
    feed(rules, [entry(), entry(), entry(), exit_()])
    assert rules.counts == {"FAC-001": 2}


def test_a_negative_count_is_kept_not_clamped_at_zero():
    rules = tracker()
    assert feed(rules, [exit_(), exit_()]) == []
    assert rules.counts == {"FAC-001": -2}
    [row] = rules.snapshot()
    assert (row.occupied, row.occupancy_rate, row.flagged) == (-2, -0.2, True)


def test_a_count_above_capacity_is_flagged_and_full_is_not():
    rules = tracker()
    feed(rules, [count(400, facility="FAC-002")])
    assert [r.flagged for r in rules.snapshot()] == [False]
    feed(rules, [count(401, facility="FAC-002")])
    assert [(r.occupancy_rate, r.flagged) for r in rules.snapshot()] == [(401 / 400, True)]


def test_the_tracker_knows_the_newest_event_time_it_counted():
    rules = tracker()
    assert rules.newest is None
    feed(rules, [entry(at(60)), exit_(at(0))])
    assert rules.newest == at(60)
    rules.on_inside("FAC-001", -1, at(90))
    assert rules.newest == at(90)


def test_an_entry_delivered_twice_counts_twice_because_deduplication_is_the_callers_job():
    rules = tracker()
    event = entry()
    feed(rules, [event, event])
    assert rules.counts["FAC-001"] == 2


def test_facilities_are_counted_separately():
    rules = tracker()
    feed(rules, [entry(facility="FAC-001"), entry(facility="FAC-002"), exit_(facility="FAC-002")])
    assert rules.counts == {"FAC-001": 1, "FAC-002": 0}


# --- on-street zones: occupied bays -------------------------------------------------------


def test_a_zone_counts_its_occupied_bays():
    rules = tracker()
    feed(rules, [bay("B-1", True), bay("B-2", True), bay("B-3", True), bay("B-2", False)])
    assert rules.counts == {"FAC-001/Z-1": 2}
    assert rules.bays == {
        "FAC-001/Z-1/B-1": True,
        "FAC-001/Z-1/B-2": False,
        "FAC-001/Z-1/B-3": True,
    }


def test_a_repeated_bay_status_changes_nothing():
    rules = tracker()
    feed(rules, [bay("B-1", True), bay("B-2", False)])
    assert rules.on_event(bay("B-1", True, at(1))) == []
    assert rules.on_event(bay("B-2", False, at(1))) == []
    assert rules.counts == {"FAC-001/Z-1": 1}


def test_a_repeated_occupied_status_at_capacity_emits_no_alert_again():
    rules = tracker()
    feed(rules, [bay(b, True) for b in ("B-1", "B-2", "B-3", "B-4")])
    assert rules.on_event(bay("B-4", True, at(1))) == []
    assert set(rules.open_alerts) == {"FAC-001/Z-1|NEAR_CAPACITY", "FAC-001/Z-1|FULL"}


def test_a_bay_first_seen_free_puts_its_zone_on_the_map_at_zero():
    rules = tracker()
    assert rules.on_event(bay("B-1", False)) == []
    assert rules.counts == {"FAC-001/Z-1": 0}
    assert rules.bays == {"FAC-001/Z-1/B-1": False}


def test_zones_with_the_same_id_in_different_facilities_are_separate():
    rules = tracker()
    feed(rules, [bay("B-1", True, facility="FAC-001"), bay("B-1", True, facility="FAC-002")])
    assert rules.counts == {"FAC-001/Z-1": 1, "FAC-002/Z-1": 1}


def test_bay_events_do_not_touch_the_facility_count():
    rules = tracker()
    feed(rules, [entry(), bay("B-1", True)])
    assert rules.counts == {"FAC-001": 1, "FAC-001/Z-1": 1}


# --- counting systems: readings as received -----------------------------------------------


def test_a_count_reading_sets_the_facility_count():
    rules = tracker()
    feed(rules, [entry(), entry(), count(5)])
    assert rules.counts == {"FAC-001": 5}


def test_entries_and_exits_after_a_reading_continue_from_it():
    rules = tracker()
    feed(rules, [count(5), entry(), entry(), exit_()])
    assert rules.counts == {"FAC-001": 6}


def test_a_negative_count_reading_is_kept_as_received():
    rules = tracker()
    assert rules.on_event(count(-3)) == []
    assert rules.counts == {"FAC-001": -3}


def test_a_count_reading_above_capacity_is_kept_and_the_facility_is_full():
    rules = tracker()
    alerts = rules.on_event(count(12))
    assert rules.counts == {"FAC-001": 12}
    assert kinds(alerts) == [
        (AlertType.NEAR_CAPACITY, AlertState.OPEN),
        (AlertType.FULL, AlertState.OPEN),
    ]
    assert alerts[1].value == 1.2
    assert alerts[1].detail == "FAC-001 at 12/10 (120%)"


def test_a_count_reading_for_a_zone_sets_the_zone_count():
    rules = tracker()
    rules.on_event(count(3, zone="Z-1"))
    assert rules.counts == {"FAC-001/Z-1": 3}


# --- other events -------------------------------------------------------------------------


def test_other_events_are_ignored():
    rules = tracker()
    payment = PaymentEvent(
        **base(T0, "FAC-001"),
        transaction_id="tx-1",
        amount=Decimal("5.00"),
        currency="EUR",
        method=PaymentMethod.CASH,
        status=PaymentStatus.COMPLETED,
    )
    telemetry = TelemetryEvent(**base(T0, "FAC-001"), voltage_v=230.0, current_a=50.0)
    assert rules.on_event(payment) == []
    assert rules.on_event(telemetry) == []
    assert rules.counts == {}
    assert rules.snapshot() == []


# --- capacity alerts ----------------------------------------------------------------------


def test_below_90_percent_no_alert_opens():
    rules = tracker()
    assert feed(rules, [entry() for _ in range(8)]) == []


def test_near_capacity_opens_at_exactly_90_percent():
    rules = tracker()
    feed(rules, [entry(at(i)) for i in range(8)])
    [alert] = rules.on_event(entry(at(9)))
    assert alert.alert_type is AlertType.NEAR_CAPACITY
    assert alert.severity is AlertSeverity.WARNING
    assert alert.state is AlertState.OPEN
    assert (alert.facility_id, alert.subject_id) == ("FAC-001", "FAC-001")
    assert alert.opened_at == alert.ts == at(9)
    assert alert.alert_id == AlertRecord.make_id("FAC-001", AlertType.NEAR_CAPACITY, at(9))
    assert alert.value == 0.9
    assert alert.detail == "FAC-001 at 9/10 (90%)"
    assert alert.version == 1
    assert list(rules.open_alerts) == ["FAC-001|NEAR_CAPACITY"]


def test_the_percentage_in_the_detail_is_rounded_down():
    rules = tracker()
    [alert] = rules.on_event(count(362, facility="FAC-002"))
    assert alert.detail == "FAC-002 at 362/400 (90%)"
    assert alert.value == 0.905
    [almost] = tracker().on_event(count(399, facility="FAC-002"))
    assert almost.alert_type is AlertType.NEAR_CAPACITY
    assert almost.detail == "FAC-002 at 399/400 (99%)"


def test_full_opens_at_exactly_100_percent_while_near_capacity_stays_open():
    rules = tracker()
    feed(rules, [entry(at(i)) for i in range(9)])
    [alert] = rules.on_event(entry(at(10)))
    assert alert.alert_type is AlertType.FULL
    assert alert.severity is AlertSeverity.CRITICAL
    assert alert.opened_at == alert.ts == at(10)
    assert alert.value == 1.0
    assert alert.detail == "FAC-001 at 10/10 (100%)"
    assert set(rules.open_alerts) == {"FAC-001|NEAR_CAPACITY", "FAC-001|FULL"}


def test_one_step_from_empty_to_full_opens_near_capacity_and_full_together():
    rules = tracker()
    assert kinds(rules.on_event(count(10))) == [
        (AlertType.NEAR_CAPACITY, AlertState.OPEN),
        (AlertType.FULL, AlertState.OPEN),
    ]


def test_at_most_one_alert_per_subject_and_type_is_open():
    rules = tracker()
    alerts = feed(rules, [entry(at(i)) for i in range(15)])
    assert kinds(alerts) == [
        (AlertType.NEAR_CAPACITY, AlertState.OPEN),
        (AlertType.FULL, AlertState.OPEN),
    ]
    assert len(rules.open_alerts) == 2


def test_full_resolves_below_100_percent_and_near_capacity_below_90_percent():
    rules = tracker()
    opened = feed(rules, [count(10, at(0))])
    [full] = rules.on_event(exit_(at(1)))
    assert full.alert_type is AlertType.FULL
    assert full.state is AlertState.RESOLVED
    assert full.alert_id == opened[1].alert_id
    assert full.resolved_at == full.ts == at(1)
    assert full.opened_at == at(0)
    assert full.version == 2
    assert list(rules.open_alerts) == ["FAC-001|NEAR_CAPACITY"]

    [near] = rules.on_event(exit_(at(2)))
    assert near.alert_type is AlertType.NEAR_CAPACITY
    assert near.state is AlertState.RESOLVED
    assert near.alert_id == opened[0].alert_id
    assert near.resolved_at == at(2)
    assert rules.open_alerts == {}


def test_one_step_from_full_to_empty_resolves_both():
    rules = tracker()
    rules.on_event(count(10, at(0)))
    assert kinds(rules.on_event(count(0, at(1)))) == [
        (AlertType.NEAR_CAPACITY, AlertState.RESOLVED),
        (AlertType.FULL, AlertState.RESOLVED),
    ]


def test_a_subject_filling_up_again_gets_a_new_alert():
    rules = tracker()
    [first] = rules.on_event(count(9, at(0)))
    rules.on_event(count(5, at(1)))
    [second] = rules.on_event(count(9, at(2)))
    assert second.state is AlertState.OPEN
    assert second.alert_id != first.alert_id


def test_zone_alerts_are_about_the_zone_and_carry_the_facility():
    rules = tracker()
    alerts = feed(rules, [bay(b, True, at(i)) for i, b in enumerate(("B-1", "B-2", "B-3", "B-4"))])
    assert kinds(alerts) == [
        (AlertType.NEAR_CAPACITY, AlertState.OPEN),
        (AlertType.FULL, AlertState.OPEN),
    ]
    full = alerts[1]
    assert (full.facility_id, full.subject_id) == ("FAC-001", "FAC-001/Z-1")
    assert full.detail == "FAC-001/Z-1 at 4/4 (100%)"
    assert full.opened_at == at(3)
    # 3 of 4 bays is 75%: below both thresholds
    assert kinds(rules.on_event(bay("B-1", False, at(5)))) == [
        (AlertType.NEAR_CAPACITY, AlertState.RESOLVED),
        (AlertType.FULL, AlertState.RESOLVED),
    ]


def test_subjects_without_a_capacity_are_counted_but_never_alerted_on():
    rules = tracker()
    assert rules.on_event(count(5000, facility="FAC-999")) == []
    assert feed(rules, [bay("B-1", True, zone="Z-9")]) == []
    assert rules.counts == {"FAC-999": 5000, "FAC-001/Z-9": 1}
    assert rules.open_alerts == {}


def test_a_capacity_of_zero_is_treated_as_no_capacity():
    rules = tracker({"FAC-001": 0})
    assert rules.on_event(entry()) == []
    assert rules.snapshot()[0].capacity is None


def test_the_near_capacity_ratio_is_configurable():
    rules = tracker(near_ratio=0.75)
    assert feed(rules, [bay("B-1", True), bay("B-2", True)]) == []
    [alert] = rules.on_event(bay("B-3", True))
    assert alert.alert_type is AlertType.NEAR_CAPACITY
    assert alert.value == 0.75


def test_the_90_percent_boundary_is_exact_for_every_capacity_that_has_one():
    for capacity in range(10, 1001, 10):
        rules = tracker({"FAC-001": capacity})
        assert rules.on_event(count(capacity * 9 // 10 - 1)) == [], capacity
        assert kinds(rules.on_event(count(capacity * 9 // 10))) == [
            (AlertType.NEAR_CAPACITY, AlertState.OPEN)
        ], capacity


# --- snapshot -----------------------------------------------------------------------------


def test_the_snapshot_has_one_row_per_counted_facility_and_zone_by_key():
    rules = tracker()
    feed(
        rules,
        [
            count(362, facility="FAC-002"),
            bay("B-1", True),
            entry(),
            entry(),
            entry(facility="FAC-003"),
        ],
    )
    assert rules.snapshot() == [
        OccupancyRow(
            facility_id="FAC-001", zone_id=None, occupied=2, capacity=10, occupancy_rate=0.2
        ),
        OccupancyRow(
            facility_id="FAC-001", zone_id="Z-1", occupied=1, capacity=4, occupancy_rate=0.25
        ),
        OccupancyRow(
            facility_id="FAC-002", zone_id=None, occupied=362, capacity=400, occupancy_rate=0.905
        ),
        OccupancyRow(
            facility_id="FAC-003", zone_id=None, occupied=1, capacity=None, occupancy_rate=None
        ),
    ]


def test_the_snapshot_is_empty_before_any_event():
    assert tracker().snapshot() == []


def test_subject_and_bay_keys():
    assert subject_key("FAC-001") == "FAC-001"
    assert subject_key("FAC-001", "Z-1") == "FAC-001/Z-1"
    assert bay_key("FAC-001", "Z-1", "B-7") == "FAC-001/Z-1/B-7"


# --- restart ------------------------------------------------------------------------------


def test_state_survives_a_restart_over_the_same_mappings():
    counts: dict[str, int] = {}
    bays: dict[str, bool] = {}
    open_alerts: dict[str, AlertRecord] = {}
    first = OccupancyTracker(counts, bays, open_alerts, CAPACITIES)
    opened = feed(first, [bay(b, True, at(i)) for i, b in enumerate(("B-1", "B-2", "B-3", "B-4"))])
    feed(first, [entry(at(i)) for i in range(5)])

    second = OccupancyTracker(counts, bays, open_alerts, CAPACITIES)
    assert second.on_event(bay("B-4", True, at(10))) == []  # still known to be occupied
    second.on_event(entry(at(11)))
    assert counts == {"FAC-001/Z-1": 4, "FAC-001": 6}
    resolved = second.on_event(bay("B-4", False, at(12)))
    assert [a.alert_id for a in resolved] == [a.alert_id for a in opened]
    assert {(a.state, a.version) for a in resolved} == {(AlertState.RESOLVED, 2)}


def test_state_round_trips_through_json_as_a_changelog_would_store_it():
    first = tracker()
    feed(first, [bay(b, True, at(i)) for i, b in enumerate(("B-1", "B-2", "B-3", "B-4"))])
    feed(first, [exit_(), bay("B-5", False)])

    stored = json.dumps(
        {
            "counts": dict(first.counts),
            "bays": dict(first.bays),
            "open_alerts": {k: v.model_dump(mode="json") for k, v in first.open_alerts.items()},
        }
    )
    restored = json.loads(stored)
    open_alerts = {k: AlertRecord.model_validate(v) for k, v in restored["open_alerts"].items()}
    assert (restored["counts"], restored["bays"], open_alerts) == (
        first.counts,
        first.bays,
        first.open_alerts,
    )

    second = OccupancyTracker(restored["counts"], restored["bays"], open_alerts, CAPACITIES)
    assert kinds(second.on_event(bay("B-1", False, at(10)))) == [
        (AlertType.NEAR_CAPACITY, AlertState.RESOLVED),
        (AlertType.FULL, AlertState.RESOLVED),
    ]
    assert second.counts == {"FAC-001/Z-1": 3, "FAC-001": -1}


def test_a_matcher_correction_moves_the_count_and_resolves_alerts():
    tracker = OccupancyTracker({}, {}, {}, CAPACITIES)
    opened = []
    for n in range(10):
        opened += tracker.on_event(entry(at(n)))
    assert {a.alert_type for a in opened} == {AlertType.NEAR_CAPACITY, AlertType.FULL}
    # one of the ten missed its exit and came back in: its old session is abandoned
    resolved = tracker.on_inside("FAC-001", -1, at(30))
    assert tracker.counts["FAC-001"] == 9
    assert [(a.alert_type, a.state) for a in resolved] == [(AlertType.FULL, AlertState.RESOLVED)]
