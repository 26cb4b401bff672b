"""Field patterns of the simulated world: peaks, stays, payments, capacity, determinism."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from parkflow.events import EventType, PaymentMethod, PaymentStatus
from parkflow.simulator import FaultRates, SimulationConfig
from parkflow.simulator.catalog import FACILITIES, FACILITIES_BY_ID, FacilityKind, first_facilities
from parkflow.simulator.world import arrival_pattern, simulate_world

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


@pytest.fixture(scope="module")
def week():
    """A clean week at the first three facilities (gated, on-street, counted)."""
    config = SimulationConfig(start=START, days=7, facilities=3, seed=11, faults=FaultRates.none())
    truth: Counter[str] = Counter()
    messages = list(simulate_world(config, first_facilities(3), truth))
    return messages, truth


def events_of(messages, event_type):
    return [e for m in messages for e in m.events if e.event_type == event_type]


def test_messages_come_in_time_order_and_within_the_period(week):
    messages, _ = week
    times = [m.ts for m in messages]
    assert times == sorted(times)
    assert START <= times[0] and times[-1] < START + timedelta(days=7)


def test_arrival_pattern_follows_field_practice():
    assert arrival_pattern(8) == (6, 12, 0.8) == arrival_pattern(16)
    assert arrival_pattern(23) == (600, 900, 0.1) == arrival_pattern(3)
    assert arrival_pattern(12) == (20, 60, 0.3)


def test_peak_hours_see_far_more_entries_than_quiet_hours(week):
    messages, _ = week
    tz = FACILITIES_BY_ID["FAC-001"].tz
    by_hour = Counter(e.ts.astimezone(tz).hour for e in events_of(messages, EventType.ENTRY))
    assert by_hour[8] > 5 * by_hour[12] > 0
    assert by_hour[12] > 5 * by_hour[3]


def test_stays_split_short_medium_long(week):
    messages, _ = week
    entries = {e.plate: e.ts for e in events_of(messages, EventType.ENTRY)}
    stays = [
        (x.ts - entries[x.plate]).total_seconds() / 3600
        for x in events_of(messages, EventType.EXIT)
        if x.plate in entries
    ]
    stays = [s for s in stays if s > 0]
    share = Counter("short" if s < 0.3 else "medium" if s <= 3 else "long" for s in stays)
    total = sum(share.values())
    assert share["short"] / total == pytest.approx(0.10, abs=0.03)
    assert share["medium"] / total == pytest.approx(0.60, abs=0.05)
    assert share["long"] / total == pytest.approx(0.30, abs=0.05)


def test_85_percent_of_paying_stays_pay_by_the_expected_methods(week):
    messages, truth = week
    payments = [p for p in events_of(messages, EventType.PAYMENT) if p.facility_id == "FAC-001"]
    completed = [p for p in payments if p.status == PaymentStatus.COMPLETED]
    # every gated stay of 5+ minutes owes money, 10% of stays are 5-15 min and still owe
    assert len(completed) / truth["sessions"] == pytest.approx(0.85, abs=0.04)
    methods = Counter(p.method for p in completed)
    assert methods[PaymentMethod.CREDIT_CARD] / len(completed) == pytest.approx(0.70, abs=0.04)
    assert methods[PaymentMethod.DEBIT_CARD] / len(completed) == pytest.approx(0.25, abs=0.04)
    assert methods[PaymentMethod.CASH] / len(completed) == pytest.approx(0.05, abs=0.02)


def test_payments_charge_the_tariff_and_come_before_the_exit(week):
    messages, _ = week
    tariff = FACILITIES_BY_ID["FAC-001"].tariff
    entries = {e.plate: e for e in events_of(messages, EventType.ENTRY)}
    exits = {e.plate: e for e in events_of(messages, EventType.EXIT)}
    checked = 0
    for payment in events_of(messages, EventType.PAYMENT):
        entry, exit_ = entries.get(payment.plate), exits.get(payment.plate)
        if payment.facility_id != "FAC-001" or not entry or not exit_ or exit_.ts < entry.ts:
            continue
        if entry.ts < payment.ts < exit_.ts:
            assert payment.amount == tariff.amount_due(exit_.ts - entry.ts)
            assert payment.ts - entry.ts >= timedelta(minutes=5)
            checked += 1
    assert checked > 100


def test_capacity_is_respected(week):
    messages, _ = week
    capacity = FACILITIES_BY_ID["FAC-001"].capacity
    inside = peak = 0
    for event in (e for m in messages for e in m.events if e.facility_id == "FAC-001"):
        if event.event_type in (EventType.ENTRY, EventType.EXIT):
            inside += 1 if event.event_type == EventType.ENTRY else -1
            peak = max(peak, inside)
    assert 0 < peak <= capacity
    counts = events_of(messages, EventType.OCCUPANCY_COUNT)
    assert counts and all(0 <= c.occupied <= c.capacity for c in counts)
    bays = events_of(messages, EventType.BAY_STATUS)
    assert {b.zone_id for b in bays} == {"Z-01", "Z-02"}


def test_the_same_seed_gives_the_same_world_and_another_seed_does_not():
    config = SimulationConfig(start=START, days=0.25, facilities=3, seed=5)
    first = list(simulate_world(config, first_facilities(3), Counter()))
    again = list(simulate_world(config, first_facilities(3), Counter()))
    other = list(
        simulate_world(config.model_copy(update={"seed": 6}), first_facilities(3), Counter())
    )
    assert [m.events for m in first] == [m.events for m in again]
    assert [m.events for m in first] != [m.events for m in other]


def test_field_faults_show_up_at_their_rates():
    faults = FaultRates.none().model_copy(
        update={"misread": 0.3, "missing_exit": 0.2, "outage": 0.01, "out_of_range": 0.05}
    )
    config = SimulationConfig(start=START, days=2, facilities=3, seed=3, faults=faults)
    truth: Counter[str] = Counter()
    messages = list(simulate_world(config, first_facilities(3), truth))
    reads = len(events_of(messages, EventType.ENTRY)) + len(events_of(messages, EventType.EXIT))
    assert truth["misreads"] / reads == pytest.approx(0.3, abs=0.04)
    assert truth["missed_exits"] > 0 and truth["outages"] > 0
    telemetry = events_of(messages, EventType.TELEMETRY)
    wild = [t for t in telemetry if t.voltage_v > 500 or t.current_a > 100 or t.power_w > 2000]
    assert wild and len(wild) == truth["out_of_range_readings"]
    counts = events_of(messages, EventType.OCCUPANCY_COUNT)
    assert any(c.occupied < 0 or c.occupied > c.capacity for c in counts)


def test_the_catalogue_has_every_kind_in_the_first_three():
    assert [f.kind for f in first_facilities(3)] == [
        FacilityKind.GATED,
        FacilityKind.ON_STREET,
        FacilityKind.COUNTED,
    ]
    assert all(f.capacity == sum(z.bays for z in f.zones) for f in FACILITIES if f.zones)
    with pytest.raises(ValueError, match="knows 6 facilities"):
        first_facilities(7)
