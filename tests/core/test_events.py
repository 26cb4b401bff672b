"""Canonical events: validation, normalisation, flags and JSON round trips."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from parkflow.events import (
    CONTRACT_VERSION,
    EVENT_ID_NAMESPACE,
    BayStatusEvent,
    EntryEvent,
    EventType,
    FailureReason,
    OccupancyCountEvent,
    PaymentEvent,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    QualityFlag,
    TelemetryEvent,
    event_from_dict,
    event_from_json,
    event_to_json,
    events_from_json,
    events_to_json,
    make_event_id,
)
from tests.core.event_strategies import any_event

NOW = datetime.now(UTC).replace(microsecond=0)
BASE = {
    "event_id": "e-1",
    "facility_id": "FAC-001",
    "device_id": "DEV-1",
    "ts": NOW - timedelta(hours=1),
    "source": "camguard",
}


def entry(**changes):
    fields = {
        **BASE,
        "plate": "ab-123 c",
        "plate_confidence": 0.9,
        "gate_id": "G-IN-1",
        "lane": "1",
        **changes,
    }
    return EntryEvent(**fields)


def test_plate_is_normalised_to_upper_case_without_separators():
    assert entry(plate=" hx-512.b ").plate == "HX512B"


@pytest.mark.parametrize("plate", ["", "---", "AB!123", "A" * 21])
def test_unusable_plates_are_rejected(plate):
    with pytest.raises(ValidationError, match="plate"):
        entry(plate=plate)


def test_timestamps_with_an_offset_are_converted_to_utc():
    event = entry(ts="2026-11-20T08:15:03+01:00")
    assert event.ts == datetime(2026, 11, 20, 7, 15, 3, tzinfo=UTC)
    assert event.ts.tzinfo is UTC


def test_naive_timestamps_are_rejected():
    with pytest.raises(ValidationError, match="timezone"):
        entry(ts="2026-11-20T08:15:03")


def test_a_timestamp_more_than_a_minute_ahead_is_rejected_but_clock_skew_is_tolerated():
    assert entry(ts=datetime.now(UTC) + timedelta(seconds=30))
    with pytest.raises(ValidationError, match="in the future"):
        entry(ts=datetime.now(UTC) + timedelta(minutes=2))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("plate_confidence", 1.2),
        ("plate_confidence", -0.1),
        ("vehicle_type", "SPACESHIP"),
        ("facility_id", " FAC 001"),
        ("facility_id", "FAC 001 "),
        ("facility_id", "<script>"),
        ("device_id", ""),
        ("source", "Not-A-Plugin"),
        ("unknown_field", 1),
    ],
)
def test_wrong_values_are_rejected(field, value):
    with pytest.raises(ValidationError, match=field):
        entry(**{field: value})


def payment(**changes):
    fields = {
        **BASE,
        "source": "paymaster",
        "transaction_id": "PS-1-7",
        "amount": "12.50",
        "currency": "EUR",
        "method": "CASH",
        "status": "COMPLETED",
        **changes,
    }
    return PaymentEvent(**fields)


def test_payment_amounts_are_exact_decimals_with_two_places():
    assert payment().amount == Decimal("12.50")
    with pytest.raises(ValidationError, match="amount"):
        payment(amount="12.505")
    with pytest.raises(ValidationError, match="amount"):
        payment(amount="-1.00")


def test_anonymous_meter_payment_with_paid_until():
    event = payment(plate=None, paid_until=NOW + timedelta(hours=2), status=PaymentStatus.REFUNDED)
    assert event.plate is None
    assert event.paid_until.tzinfo is UTC


def test_currency_must_be_an_iso_code():
    with pytest.raises(ValidationError, match="currency"):
        payment(currency="euro")


def telemetry(**changes):
    fields = {**BASE, "source": "voltwatch", "voltage_v": 230.0, "current_a": 2.0, **changes}
    return TelemetryEvent(**fields)


def test_power_is_voltage_times_current_when_missing_and_kept_when_given():
    assert telemetry().power_w == 460.0
    assert telemetry(power_w=455.5).power_w == 455.5


def test_out_of_range_telemetry_is_kept_for_the_devices_agent():
    assert telemetry(voltage_v=600.0, current_a=150.0).power_w == 90000.0


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "NaN"])
def test_non_finite_readings_are_rejected(value):
    with pytest.raises(ValidationError):
        telemetry(voltage_v=value)


def count(**changes):
    fields = {**BASE, "source": "citycount", "occupied": 10, "capacity": 100, **changes}
    return OccupancyCountEvent(**fields)


def test_suspicious_counts_are_kept_and_flagged():
    assert count().flags == ()
    assert count(occupied=-3).flags == (QualityFlag.NEGATIVE_COUNT,)
    assert count(occupied=120).flags == (QualityFlag.ABOVE_CAPACITY,)
    assert count(occupied=120).occupied == 120


def test_every_event_type_survives_a_json_round_trip():
    bay = BayStatusEvent(
        **BASE | {"source": "baynode"}, zone_id="Z-01", bay_id="B-1", occupied=True
    )
    events = [entry(), payment(plate="XY-99"), telemetry(battery_pct=50), count(occupied=-1), bay]
    for event in events:
        assert event_from_json(event_to_json(event)) == event
        assert event_from_dict(event.model_dump()) == event
    assert events_from_json(events_to_json(events)) == events
    assert {e.event_type for e in events} == set(EventType) - {EventType.EXIT}


@settings(max_examples=400, deadline=None)
@given(any_event)
def test_event_json_is_byte_for_byte_what_pydantic_writes(event):
    """`event_to_json` writes the fields itself (faster); the bytes must not change."""
    assert event_to_json(event) == event.model_dump_json().encode()
    copied = event.model_copy(update={"facility_id": "FAC-X"})  # how plates are pseudonymised
    assert event_to_json(copied) == copied.model_dump_json().encode()


def test_events_are_immutable():
    event = entry()
    with pytest.raises(ValidationError):
        event.plate = "OTHER"


def test_event_ids_are_uuid5_of_source_and_vendor_key():
    expected = str(uuid.uuid5(EVENT_ID_NAMESPACE, "camguard:abc:1"))
    assert make_event_id("camguard", "abc", 1) == expected
    assert make_event_id("camguard", "abc", 1) != make_event_id("paymaster", "abc", 1)


def test_other_offsets_are_normalised():
    event = entry(ts=datetime(2026, 11, 20, 8, 0, tzinfo=timezone(timedelta(hours=-5))))
    assert event.ts == datetime(2026, 11, 20, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize("placeholder", ["N/A", "n/a", "UNKNOWN", "", "  ", "none", "?"])
def test_a_placeholder_plate_is_no_plate(placeholder):
    """A meter or camera that read no plate says so with a placeholder: a payment then has no
    plate (not one shared by every such payment), and an entry is rejected with the reason."""
    when = datetime(2026, 11, 2, tzinfo=UTC)
    common = {"event_id": "e1", "facility_id": "F", "device_id": "D", "ts": when,
              "ingested_at": when, "source": "x"}  # fmt: skip
    payment = PaymentEvent(
        **common, transaction_id="t1", plate=placeholder, amount="2.00", currency="EUR",
        method="CASH", status="COMPLETED",
    )  # fmt: skip
    assert payment.plate is None
    with pytest.raises(ValidationError, match="no plate was read"):
        EntryEvent(**common, plate=placeholder, plate_confidence=0.9, gate_id="G", lane="1")
    assert PaymentEvent(**{**payment.model_dump(), "plate": "ab-12 cd"}).plate == "AB12CD"


def test_ids_may_hold_inner_spaces_as_real_feeds_name_them():
    assert entry(facility_id="Queen St North", gate_id="Gate 2").facility_id == "Queen St North"


def test_a_split_payment_lists_tenders_that_add_up():
    split = payment(
        amount="4.50",
        method="SPLIT",
        tenders=[{"method": "CASH", "amount": "2.00"}, {"method": "CREDIT_CARD", "amount": "2.50"}],
    )
    assert [t.method for t in split.tenders] == [PaymentMethod.CASH, PaymentMethod.CREDIT_CARD]
    assert event_from_json(event_to_json(split)) == split


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"method": "SPLIT"}, "two or more tenders"),
        ({"tenders": [{"method": "CASH", "amount": "12.50"}]}, "only with method SPLIT"),
        (
            {"method": "SPLIT", "tenders": [{"method": "CASH", "amount": "2"}] * 2},
            "add up to 4",
        ),
        (
            {"method": "SPLIT", "tenders": [{"method": "SPLIT", "amount": "6.25"}] * 2},
            "cannot itself be SPLIT",
        ),
        ({"failure_reason": "DECLINED"}, "only with status FAILED"),
        ({"purpose": "LUNCH"}, "purpose"),
    ],
)
def test_payment_details_that_contradict_each_other_are_rejected(changes, reason):
    with pytest.raises(ValidationError, match=reason):
        payment(**changes)


def test_maintenance_transactions_are_no_revenue_and_failures_say_why():
    assert not payment(purpose="MAINTENANCE").is_revenue
    assert payment().is_revenue and payment().purpose is PaymentPurpose.PARKING
    declined = payment(status="FAILED", failure_reason="DECLINED")
    assert declined.failure_reason is FailureReason.DECLINED


def test_a_bay_report_may_carry_the_sign_and_the_vendors_verdict():
    ts = datetime(2026, 11, 2, 10, tzinfo=UTC)
    bay = {**BASE, "ts": ts, "zone_id": "Z1", "bay_id": "Bay 7", "occupied": True}
    signed = BayStatusEvent(
        **bay, max_stay_minutes=120, restricted_until=ts + timedelta(hours=9), in_violation=False
    )
    assert event_from_json(event_to_json(signed)) == signed
    with pytest.raises(ValidationError, match="only with max_stay_minutes"):
        BayStatusEvent(**bay, restricted_until=ts + timedelta(hours=1))
    with pytest.raises(ValidationError, match="after the event time"):
        BayStatusEvent(**bay, max_stay_minutes=60, restricted_until=ts)


def test_payloads_of_the_previous_contract_stay_valid():
    """Contract 1.0 JSON (no tenders, purpose, failure reason or sign) reads as before."""
    assert CONTRACT_VERSION == "1.1"
    old = (
        b'{"event_id":"e1","facility_id":"FAC-001","device_id":"PS-1","ts":"2026-11-20T08:00:00Z",'
        b'"source":"paymaster","event_type":"payment","transaction_id":"t1","plate":"AB12CD",'
        b'"amount":"3.50","currency":"EUR","method":"CASH","status":"COMPLETED","paid_until":null}'
    )
    event = event_from_json(old)
    assert (event.tenders, event.purpose, event.failure_reason) == (
        (),
        PaymentPurpose.PARKING,
        None,
    )
