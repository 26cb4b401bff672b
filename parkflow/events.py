"""Canonical events: the one vocabulary every layer after a source plugin speaks.

Every vendor payload becomes one or more of these models. They validate types,
ranges and enums, keep every timestamp tz-aware in UTC, reject event times more
than a minute in the future, and serialise to and from JSON through pydantic's
Rust core. Readings that real feeds get wrong (counts above capacity or below
zero) are kept as received and carry a quality flag instead of being rejected.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from parkflow.plates import normalise_plate

#: The version of the canonical contract. Minor versions only add optional fields and enum
#: values, so payloads valid in an older minor version stay valid (1.1 added split tenders,
#: OTHER, payment purpose and failure reason, the sign on a bay, and ids with spaces).
CONTRACT_VERSION = "1.1"

#: Events stamped later than this past the wall clock are rejected as clock errors.
MAX_CLOCK_SKEW = timedelta(minutes=1)

#: Namespace of every deterministic event id (uuid5 of "<source>:<vendor id>").
EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c8e-8a0b-5c2e-9a57-7061726b666c")
_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


class EventType(StrEnum):
    """The kinds of canonical event."""

    ENTRY = "entry"
    EXIT = "exit"
    PAYMENT = "payment"
    BAY_STATUS = "bay_status"
    OCCUPANCY_COUNT = "occupancy_count"
    TELEMETRY = "telemetry"


class VehicleType(StrEnum):
    """Vehicle classes an ANPR camera reports, after vendor mapping."""

    CAR = "CAR"
    MOTORCYCLE = "MOTORCYCLE"
    TRUCK = "TRUCK"
    VAN = "VAN"
    BUS = "BUS"
    UNKNOWN = "UNKNOWN"


class PaymentMethod(StrEnum):
    """How a payment was made."""

    CREDIT_CARD = "CREDIT_CARD"
    DEBIT_CARD = "DEBIT_CARD"
    MOBILE_PAYMENT = "MOBILE_PAYMENT"
    CASH = "CASH"
    #: Any other means (voucher, token, account, permit credit): counted apart, never guessed.
    OTHER = "OTHER"
    #: Paid with several methods at once (coins and a card): the parts are in `tenders`.
    SPLIT = "SPLIT"


class PaymentStatus(StrEnum):
    """Lifecycle state of a payment transaction."""

    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


class FailureReason(StrEnum):
    """Why a FAILED payment took no money, where the vendor says."""

    DECLINED = "DECLINED"  # the card or account refused it
    CANCELLED = "CANCELLED"  # the customer walked away or pressed cancel
    NOTHING_PURCHASED = "NOTHING_PURCHASED"  # the session ended without time bought
    ERROR = "ERROR"  # the terminal failed (jam, timeout, communication)


class PaymentPurpose(StrEnum):
    """What a transaction was for: only PARKING is revenue."""

    PARKING = "PARKING"
    MAINTENANCE = "MAINTENANCE"  # a technician's coin or card test, a cash collection
    DIAGNOSTIC = "DIAGNOSTIC"  # the terminal's own self-test
    TEST = "TEST"  # a test transaction at commissioning


class QualityFlag(StrEnum):
    """Why a reading that was kept as received looks suspicious."""

    NEGATIVE_COUNT = "NEGATIVE_COUNT"
    ABOVE_CAPACITY = "ABOVE_CAPACITY"


def utc_now() -> datetime:
    """The current time, tz-aware in UTC."""
    return datetime.now(UTC)


def make_event_id(source: str, *vendor_key: object) -> str:
    """Deterministic event id: uuid5 of the source and the vendor's own id (or natural key).

    Re-sent payloads carry the same vendor id, so they map to the same event id
    and downstream deduplication by id works across retries and replays.
    """
    name = source + ":" + ":".join([str(part) for part in vendor_key])
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"  # == str(uuid.uuid5(...)), faster


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01 at +01:00 has no UTC instant
        raise ValueError("timestamp is out of range") from None


def _as_utc_not_future(value: datetime) -> datetime:
    value = _as_utc(value)
    if value - utc_now() > MAX_CLOCK_SKEW:
        raise ValueError(
            f"timestamp {value.isoformat()} is more than {MAX_CLOCK_SKEW.seconds} s in the future"
        )
    return value


#: What cameras and meters send when they read no plate: treated as no plate at all, so that
#: every "N/A" is not matched as one vehicle.
PLACEHOLDER_PLATES = frozenset({"", "NA", "N/A", "UNKNOWN", "NONE", "NULL", "NOPLATE", "?", "0"})


def is_placeholder_plate(value: object) -> bool:
    """Whether a plate field holds a placeholder for "no plate read" (`N/A`, `UNKNOWN`, empty)."""
    return isinstance(value, str) and normalise_plate(value.strip()) in PLACEHOLDER_PLATES


def _plate(value: str) -> str:
    if is_placeholder_plate(value):
        raise ValueError("no plate was read (the device sent a placeholder such as N/A)")
    plate = normalise_plate(value)
    if not plate:
        raise ValueError("plate is empty after normalisation")
    if len(plate) > 20 or not plate.isalnum():
        raise ValueError("plate must be 1-20 letters or digits after normalisation")
    return plate


#: An instant in UTC; any offset is accepted and converted, naive times are rejected.
UtcTime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
#: A device event time: UTC, and not more than a minute in the future.
EventTime = Annotated[AwareDatetime, AfterValidator(_as_utc_not_future)]
#: Ids of facilities, devices, gates, zones and bays: short, no markup; inner spaces are kept
#: (real feeds name bays "Bay 12"), leading and trailing ones are not.
Identifier = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9_.:\- ]*[A-Za-z0-9_.:\-])?$",
    ),
]
#: A licence plate, normalised to upper case with spaces, dashes and dots removed.
Plate = Annotated[str, AfterValidator(_plate)]
#: A plate that may be missing: a placeholder (`N/A`, `UNKNOWN`, empty) is no plate.
OptionalPlate = Annotated[
    Plate | None, BeforeValidator(lambda v: None if is_placeholder_plate(v) else v)
]
#: A float that is not NaN or infinite (checked in pydantic's core: no Python call per value).
Finite = Annotated[float, Field(allow_inf_nan=False)]
Money = Annotated[Decimal, Field(ge=0, decimal_places=2, max_digits=12)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class EventBase(BaseModel):
    """Fields every canonical event carries."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    facility_id: Identifier
    device_id: Identifier
    ts: EventTime
    ingested_at: UtcTime = Field(default_factory=utc_now)
    source: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    flags: tuple[QualityFlag, ...] = ()


class _VehiclePass(EventBase):
    plate: Plate
    plate_confidence: Annotated[float, Field(ge=0, le=1)]
    gate_id: Identifier
    lane: Identifier
    vehicle_type: VehicleType = VehicleType.UNKNOWN
    image_url: Annotated[str, StringConstraints(max_length=2048)] | None = None


class EntryEvent(_VehiclePass):
    """A vehicle passed an entry gate camera."""

    event_type: Literal[EventType.ENTRY] = EventType.ENTRY


class ExitEvent(_VehiclePass):
    """A vehicle passed an exit gate camera."""

    event_type: Literal[EventType.EXIT] = EventType.EXIT


class Tender(BaseModel):
    """One part of a split payment: how much was paid with which method."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: PaymentMethod
    amount: Money


class PaymentEvent(EventBase):
    """A payment transaction at a pay station, meter or app.

    `plate` is None for anonymous payments (coins at a meter, or a placeholder such as
    `N/A`); `paid_until` is the time the paid stay expires, as meters report it. Refunds
    carry a positive amount with status REFUNDED. A payment made with several methods has
    method SPLIT and its parts in `tenders` (two or more, adding up to `amount`). Only
    `purpose` PARKING is revenue: maintenance, diagnostic and test transactions are kept and
    shown apart. A FAILED payment may say why (`failure_reason`).
    """

    event_type: Literal[EventType.PAYMENT] = EventType.PAYMENT
    transaction_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    plate: OptionalPlate = None
    amount: Money
    currency: Currency
    method: PaymentMethod
    status: PaymentStatus
    paid_until: UtcTime | None = None
    tenders: tuple[Tender, ...] = ()
    purpose: PaymentPurpose = PaymentPurpose.PARKING
    failure_reason: FailureReason | None = None

    @model_validator(mode="after")
    def _check_tenders_and_outcome(self) -> PaymentEvent:
        if self.method is PaymentMethod.SPLIT or self.tenders:
            if self.method is not PaymentMethod.SPLIT:
                raise ValueError("tenders are given only with method SPLIT")
            if len(self.tenders) < 2:
                raise ValueError("a SPLIT payment needs two or more tenders")
            if any(t.method is PaymentMethod.SPLIT for t in self.tenders):
                raise ValueError("a tender cannot itself be SPLIT")
            total = sum((t.amount for t in self.tenders), Decimal("0"))
            if total != self.amount:
                raise ValueError(f"tenders add up to {total}, not the amount {self.amount}")
        if self.failure_reason is not None and self.status is not PaymentStatus.FAILED:
            raise ValueError(f"failure_reason is given only with status FAILED, not {self.status}")
        return self

    @property
    def is_revenue(self) -> bool:
        """Whether the transaction counts in revenue (and in what a session paid)."""
        return self.purpose is PaymentPurpose.PARKING


class BayStatusEvent(EventBase):
    """An on-street bay sensor reported its bay free or occupied.

    Feeds that know the sign in force on the bay send it: `max_stay_minutes` allowed while
    the restriction applies, until `restricted_until` (none: all day). Overstays then follow
    the sign, not the estate's zone rules. `in_violation` is the vendor's own verdict on the
    stay, where it sends one: it decides over ParkFlow's.
    """

    event_type: Literal[EventType.BAY_STATUS] = EventType.BAY_STATUS
    zone_id: Identifier
    bay_id: Identifier
    occupied: bool
    max_stay_minutes: Annotated[int, Field(gt=0, le=7 * 24 * 60)] | None = None
    restricted_until: UtcTime | None = None
    in_violation: bool | None = None

    @model_validator(mode="after")
    def _check_restriction(self) -> BayStatusEvent:
        if self.restricted_until is not None:
            if self.max_stay_minutes is None:
                raise ValueError("restricted_until is given only with max_stay_minutes")
            if self.restricted_until <= self.ts:
                raise ValueError("restricted_until must be after the event time")
        return self


class OccupancyCountEvent(EventBase):
    """A counting system reported how many vehicles are inside (not who).

    Counts below zero or above capacity happen in real feeds (loop drift, missed
    exits); they are kept as received and flagged NEGATIVE_COUNT / ABOVE_CAPACITY.
    """

    event_type: Literal[EventType.OCCUPANCY_COUNT] = EventType.OCCUPANCY_COUNT
    occupied: int
    capacity: Annotated[int, Field(gt=0)] | None = None
    zone_id: Identifier | None = None

    @model_validator(mode="after")
    def _flag_suspicious_counts(self) -> OccupancyCountEvent:
        flags = set(self.flags)
        if self.occupied < 0:
            flags.add(QualityFlag.NEGATIVE_COUNT)
        if self.capacity is not None and self.occupied > self.capacity:
            flags.add(QualityFlag.ABOVE_CAPACITY)
        if len(flags) != len(self.flags):
            object.__setattr__(self, "flags", tuple(sorted(flags)))
        return self


class TelemetryEvent(EventBase):
    """Electrical and health readings of a device (gate controller, charger, sensor).

    Out-of-range readings are kept: the devices agent turns them into alerts.
    `power_w` is voltage x current when the device does not report it.
    """

    event_type: Literal[EventType.TELEMETRY] = EventType.TELEMETRY
    voltage_v: Finite
    current_a: Finite
    power_w: Finite | None = None
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    temperature_c: Finite | None = None  # kept as received: a broken sensor is an alert
    rssi_dbm: Annotated[float, Field(ge=-200, le=50)] | None = None

    @model_validator(mode="after")
    def _derive_power(self) -> TelemetryEvent:
        if self.power_w is None:
            power = round(self.voltage_v * self.current_a, 3)
            if not math.isfinite(power):
                raise ValueError("voltage x current is not a finite power")
            object.__setattr__(self, "power_w", power)
        return self


CanonicalEvent = Annotated[
    EntryEvent | ExitEvent | PaymentEvent | BayStatusEvent | OccupancyCountEvent | TelemetryEvent,
    Field(discriminator="event_type"),
]
"""Any canonical event, discriminated by `event_type`."""

EVENT_MODELS: dict[EventType, type[EventBase]] = {
    EventType.ENTRY: EntryEvent,
    EventType.EXIT: ExitEvent,
    EventType.PAYMENT: PaymentEvent,
    EventType.BAY_STATUS: BayStatusEvent,
    EventType.OCCUPANCY_COUNT: OccupancyCountEvent,
    EventType.TELEMETRY: TelemetryEvent,
}

_adapter: TypeAdapter[CanonicalEvent] = TypeAdapter(CanonicalEvent)
_list_adapter: TypeAdapter[list[CanonicalEvent]] = TypeAdapter(list[CanonicalEvent])


def _json_default(value: object) -> str | dict[str, Any]:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BaseModel):  # a tender of a split payment
        return value.__dict__
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def event_to_json(event: EventBase) -> bytes:
    """Serialise one event to compact JSON bytes.

    The same bytes as pydantic's `model_dump_json` (tests/core/test_events.py checks every
    type), five times faster: a validated event's fields are JSON-ready but for the amount,
    and orjson writes its datetimes in UTC with a `Z`, as pydantic does.
    """
    return orjson.dumps(event.__dict__, default=_json_default, option=orjson.OPT_UTC_Z)


def event_from_json(data: bytes | str) -> CanonicalEvent:
    """Parse and validate one event from JSON (raises pydantic.ValidationError)."""
    return _adapter.validate_json(data)


def event_from_dict(data: dict[str, Any]) -> CanonicalEvent:
    """Validate one event from a mapping with an `event_type` key."""
    return _adapter.validate_python(data)


def events_to_json(events: list[Any]) -> bytes:
    """Serialise a list of events to a JSON array."""
    return _list_adapter.dump_json(events)


def events_from_json(data: bytes | str) -> list[CanonicalEvent]:
    """Parse and validate a JSON array of events."""
    return _list_adapter.validate_json(data)


def is_canonical_event(value: object) -> bool:
    """True when `value` is an instance of one of the canonical event models."""
    return isinstance(value, EventBase)
