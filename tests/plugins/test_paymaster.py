"""PayMaster payment plugin: contract plus the vendor-specific mapping."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from parkflow.events import (
    FailureReason,
    PaymentEvent,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    Tender,
)
from parkflow.sdk import PayloadError
from parkflow.testing import SourcePluginContract
from plugins.paymaster import HEADER, MAX_LINES, PayMasterPlugin


class TestPayMasterContract(SourcePluginContract):
    plugin_class = PayMasterPlugin


@pytest.fixture
def plugin() -> PayMasterPlugin:
    return PayMasterPlugin()


def sample(plugin: PayMasterPlugin, name: str) -> bytes:
    return next(s.payload for s in plugin.samples() if s.name == name)


LINE = (
    "PAY;FAC-001-PS-1;FAC-001;20.11.2026 08:15:03;Europe/Amsterdam;48213;T-1;HX-512-B;"
    "350;EUR;CC;OK;"
)


def test_pay_station_payment_maps_every_field(plugin):
    [event] = plugin.parse(sample(plugin, "station_single.csv"))
    assert isinstance(event, PaymentEvent)
    assert (event.facility_id, event.device_id) == ("FAC-001", "FAC-001-PS-1")
    assert event.transaction_id == "FAC-001-PS-1-48213"
    assert event.ts == datetime(2026, 11, 20, 7, 15, 3, tzinfo=UTC)  # CET wall clock -> UTC
    assert event.plate == "HX512B"
    assert event.amount == Decimal("3.50")
    assert event.amount.as_tuple().exponent == -2
    assert (event.currency, event.method) == ("EUR", PaymentMethod.CREDIT_CARD)
    assert event.status is PaymentStatus.COMPLETED
    assert event.paid_until is None


def test_anonymous_meter_payment_has_no_plate_and_a_paid_until(plugin):
    [event] = plugin.parse(sample(plugin, "meter_anonymous_cash.csv"))
    assert event.plate is None
    assert event.method is PaymentMethod.CASH
    assert event.amount == Decimal("2.00")
    assert event.paid_until == datetime(2026, 11, 19, 9, 2, 40, tzinfo=UTC)


def test_a_street_meter_export_says_what_real_meters_say(plugin):
    events = plugin.parse(sample(plugin, "meter_split_tender_and_service.csv"))
    split, nothing, declined, paid, maintenance, diagnostic, cancelled = events
    assert split.facility_id == "Queen St North" and split.device_id == "MTR 0412"
    assert split.method is PaymentMethod.SPLIT and split.amount == Decimal("4.50")
    assert split.tenders == (
        Tender(method=PaymentMethod.CASH, amount=Decimal("2.00")),
        Tender(method=PaymentMethod.CREDIT_CARD, amount=Decimal("2.50")),
    )
    assert split.plate is None  # N/A: no plate read
    assert (nothing.status, nothing.failure_reason) == (
        PaymentStatus.FAILED,
        FailureReason.NOTHING_PURCHASED,
    )
    assert nothing.amount == Decimal("0.00")
    assert declined.failure_reason is FailureReason.DECLINED and declined.plate == "1ABC234"
    assert paid.status is PaymentStatus.COMPLETED and paid.failure_reason is None
    assert [e.purpose for e in (maintenance, diagnostic)] == [
        PaymentPurpose.MAINTENANCE,
        PaymentPurpose.DIAGNOSTIC,
    ]
    assert not maintenance.is_revenue and paid.is_revenue
    assert cancelled.method is PaymentMethod.OTHER
    assert cancelled.failure_reason is FailureReason.CANCELLED
    assert cancelled.plate is None  # UNKNOWN
    again = plugin.parse(plugin.simulate(events))
    assert [e.model_dump(exclude={"ingested_at"}) for e in again] == [
        e.model_dump(exclude={"ingested_at"}) for e in events
    ]


def test_refund_keeps_a_positive_amount(plugin):
    [event] = plugin.parse(sample(plugin, "meter_refund.csv"))
    assert event.status is PaymentStatus.REFUNDED
    assert event.amount == Decimal("4.50")


def test_export_with_header_crlf_and_blank_line(plugin):
    events = plugin.parse(sample(plugin, "station_daily_export_crlf.csv"))
    assert [e.status for e in events] == [
        PaymentStatus.COMPLETED,
        PaymentStatus.PENDING,
        PaymentStatus.FAILED,
        PaymentStatus.COMPLETED,
        PaymentStatus.REFUNDED,
    ]
    assert [e.method for e in events][:2] == [
        PaymentMethod.DEBIT_CARD,
        PaymentMethod.MOBILE_PAYMENT,
    ]
    assert len({e.event_id for e in events}) == 5


def test_london_terminal_uses_its_own_time_zone_and_free_exit(plugin):
    first, second = plugin.parse(sample(plugin, "gate_controller_london.csv"))
    assert first.ts == datetime(2026, 11, 16, 17, 42, 55, tzinfo=UTC)  # GMT == UTC in November
    assert first.amount == Decimal("0.00")
    assert (second.currency, second.plate) == ("GBP", "YD21MZO")


def test_summer_time_is_applied():
    [event] = PayMasterPlugin().parse(LINE.replace("20.11.2026", "20.07.2026").encode())
    assert event.ts == datetime(2026, 7, 20, 6, 15, 3, tzinfo=UTC)  # CEST is UTC+2


def test_resent_transaction_keeps_its_event_id(plugin):
    [first] = plugin.parse(LINE.encode())
    [again] = plugin.parse(f"{HEADER}\r\n{LINE}\r\n".encode())
    [padded] = plugin.parse(LINE.replace(";48213;", ";0048213;").encode())
    assert first.event_id == again.event_id == padded.event_id


def test_same_txn_no_on_another_terminal_is_another_event(plugin):
    [first] = plugin.parse(LINE.encode())
    [other] = plugin.parse(LINE.replace("PS-1;", "PS-2;").encode())
    assert first.event_id != other.event_id


def test_a_bad_line_rejects_the_whole_payload_and_names_it(plugin):
    payload = "\n".join([LINE, LINE.replace("48213", "48214"), LINE.replace(";CC;", ";XX;")])
    with pytest.raises(PayloadError, match=r"^line 3: method must be CC"):
        plugin.parse(payload.encode())


def test_header_must_come_first(plugin):
    with pytest.raises(PayloadError, match=r"^line 2: a header line must be exactly .* come first"):
        plugin.parse(f"{LINE}\n{HEADER}\n".encode())


def test_header_only_payload_is_rejected(plugin):
    with pytest.raises(PayloadError, match=r"^payload has a header line but no data lines$"):
        plugin.parse(f"{HEADER}\n\n".encode())


def test_too_many_lines_are_rejected(plugin):
    with pytest.raises(PayloadError, match=f"at most {MAX_LINES}"):
        plugin.parse(f"{LINE}\n".encode() * (MAX_LINES + 1))
    assert len(plugin.parse(f"{LINE}\n".encode() * MAX_LINES)) == MAX_LINES


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("amount_cents", "99999999999999999999", "amount_cents has more than 12 digits"),
        ("amount_cents", "", "amount_cents must be a whole number"),
        ("txn_no", "", "txn_no is empty"),
        ("txn_no", "1e3", "txn_no must be a positive whole number"),
        ("txn_no", "9" * 19, "txn_no has more than 18 digits"),
        ("tz", "", "tz is empty"),
        ("tz", "Europe", "unknown time zone 'Europe'"),
        ("tz", "A" * 5000, "unknown time zone"),
        ("currency", "eur", "currency must be a 3-letter ISO 4217 code"),
        ("status", "OK!", "status must be OK"),
        ("record", "PAYMENT", "record must be PAY, REF, MNT"),
        ("terminal", "", "terminal is empty"),
        ("plate", "<script>", "plate"),
        ("local_time", "01.01.0001 00:00:00", "local_time .* is out of the supported date range"),
        ("local_time", "31.02.2026 08:00:00", "local_time must be a time 'DD.MM.YYYY HH:MM:SS'"),
        ("paid_until_local", "tomorrow", "paid_until_local must be a time"),
    ],
)
def test_bad_fields_say_which_and_why(plugin, field, value, reason):
    fields = LINE.split(";")
    fields[HEADER.split(";").index(field)] = value
    with pytest.raises(PayloadError, match=f"^line 1: {reason}") as caught:
        plugin.parse(";".join(fields).encode())
    assert len(caught.value.reason) < 300


def test_simulate_renders_one_line_per_event_in_the_given_zone(plugin):
    events = plugin.parse(sample(plugin, "station_daily_export_crlf.csv"))
    rendered = plugin.simulate(events, tz=ZoneInfo("Europe/London")).decode()
    lines = rendered.splitlines()
    assert len(lines) == 5
    assert lines[0] == (
        "PAY;FAC-001-PS-2;FAC-001;18.11.2026 06:58:12;Europe/London;30114;;KL203V;1250;EUR;DC;OK;"
    )
    assert lines[-1].startswith("REF;")
    assert lines[-1].endswith(";DC;OK;")
    assert [e.model_dump(exclude={"ingested_at"}) for e in plugin.parse(rendered.encode())] == [
        e.model_dump(exclude={"ingested_at"}) for e in events
    ]  # same transaction numbers, so even the event ids survive


def test_simulate_without_an_iana_zone_writes_utc(plugin):
    [event] = plugin.parse(sample(plugin, "meter_anonymous_cash.csv"))
    rendered = plugin.simulate([event], tz=UTC).decode()
    assert ";19.11.2026 08:02:40;UTC;" in rendered
    assert rendered.endswith(";19.11.2026 09:02:40\n")


def test_simulate_derives_a_stable_txn_no_for_foreign_transaction_ids(plugin):
    [event] = plugin.parse(LINE.encode())
    foreign = event.model_copy(update={"transaction_id": "app-7f3c9a2e"})
    first, second = plugin.simulate([foreign]), plugin.simulate([foreign])
    assert first == second
    [again] = plugin.parse(first)
    assert again.transaction_id.startswith("FAC-001-PS-1-")
    assert again.transaction_id.removeprefix("FAC-001-PS-1-").isdigit()


def test_simulate_refuses_other_event_types(plugin):
    from plugins.citycount import CityCountPlugin

    counts = CityCountPlugin().parse(b"FAC-003,Centrum,2026-11-20 08:05:00,412,600,open\n")
    with pytest.raises(ValueError, match="only payments"):
        plugin.simulate(counts)


INVALID_SAMPLES = [
    ("amount_in_euros.csv", "line 1: amount_cents must be a whole number of cents, got '12.50'"),
    ("negative_amount.csv", "amount_cents must not be negative"),
    ("unknown_method.csv", r"method must be CC \(credit card\), DC .* got 'VI'"),
    ("misspelt_time_zone.csv", "unknown time zone 'Europe/Amstrdam'"),
    ("failed_refund.csv", r"a REF \(refund\) record must have status OK, got 'KO'"),
    ("comma_separated.csv", "expected 13 fields separated by ';', got 1"),
    ("iso_time_format.csv", "local_time must be a time 'DD.MM.YYYY HH:MM:SS'"),
    ("far_future.csv", "in the future"),
    ("one_bad_line_in_export.csv", "line 4: txn_no must be a positive whole number, got '0'"),
    (
        "split_parts_do_not_add_up.csv",
        "line 1: the parts of 'CA:200\\+CC:200' do not add up to amount_cents 450",
    ),
]


@pytest.mark.parametrize(("name", "reason"), INVALID_SAMPLES)
def test_invalid_payloads_say_why(plugin, name, reason):
    payload = next(s.payload for s in plugin.invalid_samples() if s.name == name)
    with pytest.raises(PayloadError, match=reason):
        plugin.parse(payload)


def test_every_invalid_sample_has_its_reason_checked(plugin):
    assert {s.name for s in plugin.invalid_samples()} == {name for name, _ in INVALID_SAMPLES}
