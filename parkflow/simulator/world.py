"""Ground truth of a simulated city: vehicles arrive, stay, pay and leave; devices report.

Each facility runs as a small discrete-event simulation with its own seeded RNG,
so a seed always gives the same traffic and adding a facility does not change the
others. A site turns what happens into `Message`s: the canonical events one
device sends in one message, tagged with the vendor plugin that renders them.
Field faults that change what devices report (misreads, missed exits, outages,
out-of-range readings) happen here; faults in transit happen in `transport`.

Traffic follows field patterns: peak hours 8-9 and 16-17 (80% chance of an
arrival every 6-12 s), normal hours (30%, 20-60 s), quiet 23-05 (10%, 10-15 min),
with gaps scaled to the site's size (a 400-space garage is the reference); stays
of 5-15 min (10%), 1-3 h (60%) or 8-10 h (30%); 85% of stays that owe money pay,
by credit card (70%), debit card (25%) or cash (5%); a full site turns cars away.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from parkflow.events import (
    BayStatusEvent,
    EntryEvent,
    EventBase,
    ExitEvent,
    OccupancyCountEvent,
    PaymentEvent,
    PaymentMethod,
    PaymentStatus,
    TelemetryEvent,
    VehicleType,
)
from parkflow.simulator.catalog import Facility, FacilityKind, Zone
from parkflow.simulator.config import SimulationConfig

E = TypeVar("E", bound=EventBase)

#: The plugin that renders each kind of device's messages.
VENDOR_FOR = {
    "anpr_camera": "camguard",
    "pay_terminal": "paymaster",
    "bay_sensor": "baynode",
    "power_meter": "voltwatch",
    "counter": "citycount",
}
REFERENCE_CAPACITY = 400
PAYING_SHARE = 0.85
_METHODS = (PaymentMethod.CREDIT_CARD, PaymentMethod.DEBIT_CARD, PaymentMethod.CASH)
_METHOD_WEIGHTS = (0.70, 0.25, 0.05)
_VEHICLES = (VehicleType.CAR, VehicleType.VAN, VehicleType.MOTORCYCLE, VehicleType.TRUCK,
             VehicleType.BUS, VehicleType.UNKNOWN)  # fmt: skip
_VEHICLE_WEIGHTS = (0.85, 0.07, 0.04, 0.02, 0.01, 0.01)
#: Characters ANPR engines mistake for one another.
_TWINS = {"O": "0", "0": "O", "Q": "0", "D": "0", "I": "1", "1": "I", "L": "1", "B": "8",
          "8": "B", "S": "5", "5": "S", "Z": "2", "2": "Z", "G": "6", "6": "G"}  # fmt: skip


def construct(model: type[E], **fields: object) -> E:
    """An event built without validation (the simulator's values are valid by construction).

    Every field is given, because `model_construct` resolves defaults slowly.
    """
    event_type = model.model_fields["event_type"].default
    return model.model_construct(event_type=event_type, ingested_at=None, flags=(), **fields)


@dataclass(slots=True)
class Message:
    """What one device sends at one instant: canonical events for one vendor payload."""

    ts: datetime
    vendor: str
    device_id: str
    events: tuple[EventBase, ...]
    tz: ZoneInfo


Action = Callable[[datetime], list[Message]]


class Scheduler:
    """A tiny discrete-event loop: actions run in time order until the period ends."""

    def __init__(self, end: datetime) -> None:
        self.end = end
        self._heap: list[tuple[datetime, int, Action]] = []
        self._order = itertools.count()

    def at(self, ts: datetime, action: Action) -> None:
        """Run `action(ts)` at `ts` (ignored when `ts` is past the end)."""
        if ts < self.end:
            heapq.heappush(self._heap, (ts, next(self._order), action))

    def run(self) -> Iterator[Message]:
        """The messages of every action, in time order."""
        while self._heap:
            ts, _, action = heapq.heappop(self._heap)
            yield from action(ts)


# --- field patterns ---------------------------------------------------------------------------


def arrival_pattern(local_hour: int) -> tuple[float, float, float]:
    """(min gap s, max gap s, chance of an arrival) for a local hour at a 400-space site."""
    if local_hour in (8, 16):
        return 6, 12, 0.8
    if local_hour >= 23 or local_hour < 5:
        return 600, 900, 0.1
    return 20, 60, 0.3


def draw_stay(rng: random.Random) -> timedelta:
    """A stay: 5-15 min (10%), 1-3 h (60%), 8-10 h (30%)."""
    draw = rng.random()
    if draw < 0.10:
        minutes = rng.uniform(5, 15)
    elif draw < 0.70:
        minutes = rng.uniform(60, 180)
    else:
        minutes = rng.uniform(480, 600)
    return timedelta(seconds=round(minutes * 60))


def misread(plate: str, rng: random.Random) -> str:
    """A plausible ANPR misread: mostly a confusable character, sometimes a lost one."""
    swappable = [i for i, char in enumerate(plate) if char in _TWINS]
    if swappable and rng.random() < 0.9:
        at = rng.choice(swappable)
        return plate[:at] + _TWINS[plate[at]] + plate[at + 1 :]
    characters = [i for i, char in enumerate(plate) if char.isalnum()]
    at = rng.choice(characters)
    return plate[:at] + plate[at + 1 :]


def plate_maker(timezone: str, rng: random.Random) -> Callable[[], str]:
    """Plates in the local format, as a camera prints them (with separators)."""
    digits = "0123456789"
    if timezone == "Europe/London":
        letters = "ABCDEFGHJKLMNOPRSTUVWXY"

        def british() -> str:
            pick = rng.choice
            return f"{pick(letters)}{pick(letters)}{pick(digits)}{pick(digits)} " + "".join(
                pick(letters) for _ in range(3)
            )

        return british
    consonants = "BDFGHJKLNPRSTVXZ"
    layouts = ("LL-DDD-L", "DD-LLL-D", "L-DDD-LL", "LL-DD-LL", "D-LLL-DD")

    def dutch() -> str:
        layout = rng.choice(layouts)
        return "".join(
            rng.choice(consonants) if c == "L" else rng.choice(digits) if c == "D" else c
            for c in layout
        )

    return dutch


# --- sites ------------------------------------------------------------------------------------


class Site:
    """Common machinery of a simulated facility."""

    def __init__(self, facility: Facility, config: SimulationConfig, truth: Counter[str]) -> None:
        self.facility = facility
        self.config = config
        self.faults = config.faults
        self.truth = truth
        self.rng = random.Random(f"{config.seed}:{facility.facility_id}")
        self.tz = facility.tz
        self.scheduler = Scheduler(config.end)
        self._txn_numbers: Counter[str] = Counter()
        self._dark_until: dict[str, datetime] = {}

    def new_id(self) -> str:
        """A reproducible event id from the site's RNG."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def seconds(self, value: float) -> timedelta:
        """A whole-second delay of at least one second."""
        return timedelta(seconds=max(1, round(value)))

    def message(self, ts: datetime, role: str, device: str, *events: EventBase) -> Message:
        """A message of `device`, rendered by the vendor plugin of its role."""
        return Message(ts, VENDOR_FOR[role], device, events, self.tz)

    def schedule_arrivals(self, capacity: int, on_arrival: Action) -> None:
        """Arrival ticks following the hourly pattern, scaled to a site of `capacity`."""
        scale = REFERENCE_CAPACITY / capacity

        def tick(ts: datetime) -> list[Message]:
            low, high, chance = arrival_pattern(ts.astimezone(self.tz).hour)
            self.scheduler.at(ts + self.seconds(self.rng.uniform(low, high) * scale), tick)
            return on_arrival(ts) if self.rng.random() < chance else []

        self.scheduler.at(self.config.start + self.seconds(self.rng.uniform(1, 60)), tick)

    def payment(
        self,
        ts: datetime,
        terminal: str,
        amount: Decimal,
        status: PaymentStatus,
        *,
        plate: str | None,
        method: PaymentMethod | None = None,
        paid_until: datetime | None = None,
    ) -> Message:
        """A payment transaction at `terminal`, numbered per terminal."""
        self._txn_numbers[terminal] += 1
        self.truth[f"payments_{status.value.lower()}"] += 1
        event = construct(
            PaymentEvent,
            event_id=self.new_id(),
            facility_id=self.facility.facility_id,
            device_id=terminal,
            ts=ts,
            source=VENDOR_FOR["pay_terminal"],
            transaction_id=f"{terminal}-{self._txn_numbers[terminal]}",
            plate=plate,
            amount=amount,
            currency=self.facility.currency,
            method=method or self.rng.choices(_METHODS, _METHOD_WEIGHTS)[0],
            status=status,
            paid_until=paid_until,
        )
        return self.message(ts, "pay_terminal", terminal, event)

    def schedule_power_meters(self, devices: dict[str, tuple[float, float]]) -> None:
        """Telemetry every interval from each device: {device id: (min A, max A)}."""
        interval = self.config.telemetry_interval_s
        for device, amps in devices.items():
            first = self.config.start + self.seconds(self.rng.uniform(0, interval))
            self.scheduler.at(first, lambda ts, d=device, a=amps: self._power_reading(ts, d, a))

    def _power_reading(self, ts: datetime, device: str, amps: tuple[float, float]) -> list[Message]:
        interval = timedelta(seconds=self.config.telemetry_interval_s)
        self.scheduler.at(ts + interval, lambda t: self._power_reading(t, device, amps))
        if self._dark(device, ts):
            return []
        voltage = round(self.rng.gauss(230, 2), 1)
        current = round(self.rng.uniform(*amps), 2)
        if self.rng.random() < self.faults.out_of_range:
            voltage, current = self._out_of_range(voltage, current)
        event = self.telemetry(ts, device, voltage, current, source=VENDOR_FOR["power_meter"])
        return [self.message(ts, "power_meter", device, event)]

    def _dark(self, device: str, ts: datetime) -> bool:
        if ts < self._dark_until.get(device, ts):
            return True
        if self.rng.random() < self.faults.outage:
            self._dark_until[device] = ts + self.seconds(self.rng.uniform(300, 1800))
            self.truth["outages"] += 1
            return True
        return False

    def _out_of_range(self, voltage: float, current: float) -> tuple[float, float]:
        self.truth["out_of_range_readings"] += 1
        kind = self.rng.randrange(3)
        if kind == 0:
            return round(self.rng.uniform(510, 600), 1), current  # invalid voltage
        if kind == 1:
            return voltage, round(self.rng.uniform(101, 150), 2)  # invalid current
        return voltage, round(self.rng.uniform(9.0, 12.0), 2)  # > 2000 W: high power

    def telemetry(
        self,
        ts: datetime,
        device: str,
        voltage: float,
        current: float,
        *,
        source: str,
        **extra: float | None,
    ) -> TelemetryEvent:
        """A telemetry event with power derived as the device would."""
        self.truth["telemetry_readings"] += 1
        return construct(
            TelemetryEvent,
            event_id=self.new_id(),
            facility_id=self.facility.facility_id,
            device_id=device,
            ts=ts,
            source=source,
            voltage_v=voltage,
            current_a=current,
            power_w=round(voltage * current, 3),
            battery_pct=extra.get("battery_pct"),
            temperature_c=extra.get("temperature_c"),
            rssi_dbm=extra.get("rssi_dbm"),
        )


class GatedSite(Site):
    """A garage with ANPR cameras at entry and exit gates, pay stations and chargers."""

    def __init__(self, facility: Facility, config: SimulationConfig, truth: Counter[str]) -> None:
        super().__init__(facility, config, truth)
        fid = facility.facility_id
        self.lanes = 2 if facility.capacity >= 400 else 1
        self.terminals = [f"{fid}-PS-1", f"{fid}-PS-2"]
        self.inside: set[str] = set()
        self.new_plate = plate_maker(facility.timezone, self.rng)
        self.regulars = [self.new_plate() for _ in range(facility.capacity // 2)]
        self.schedule_arrivals(facility.capacity, self.arrive)
        meters = {
            f"{fid}-GC-{way}-{lane}": (0.3, 1.2)
            for way in ("IN", "OUT")
            for lane in range(1, self.lanes + 1)
        }
        meters |= {terminal: (0.2, 0.6) for terminal in self.terminals}
        meters |= {f"{fid}-EV-{n}": (0.05, 8.0) for n in (1, 2)}
        self.schedule_power_meters(meters)

    def _plate(self) -> str | None:
        for _ in range(5):
            plate = self.rng.choice(self.regulars) if self.rng.random() < 0.35 else self.new_plate()
            if plate not in self.inside:
                return plate
        return None

    def _read(self, ts: datetime, plate: str, way: str, vehicle: VehicleType) -> Message:
        lane = self.rng.randint(1, self.lanes)
        model = EntryEvent if way == "IN" else ExitEvent
        confidence = round(self.rng.uniform(0.85, 0.995), 3)
        if self.rng.random() < self.faults.misread:
            plate, confidence = misread(plate, self.rng), round(self.rng.uniform(0.55, 0.85), 3)
            self.truth["misreads"] += 1
        event_id = self.new_id()
        device = f"{self.facility.facility_id}-CAM-{way}-{lane}"
        event = construct(
            model,
            event_id=event_id,
            facility_id=self.facility.facility_id,
            device_id=device,
            ts=ts,
            source=VENDOR_FOR["anpr_camera"],
            plate=plate,
            plate_confidence=confidence,
            gate_id=f"G-{way}-{lane}",
            lane=str(lane),
            vehicle_type=vehicle,
            image_url=f"https://cam.{self.facility.facility_id.lower()}.example/{event_id[:8]}.jpg",
        )
        return self.message(ts, "anpr_camera", device, event)

    def arrive(self, ts: datetime) -> list[Message]:
        """A vehicle at the entry gate: in (if there is room), with its exit and payment planned."""
        plate = self._plate() if len(self.inside) < self.facility.capacity else None
        if plate is None:
            self.truth["turned_away"] += 1
            return []
        self.inside.add(plate)
        self.truth["sessions"] += 1
        vehicle = self.rng.choices(_VEHICLES, _VEHICLE_WEIGHTS)[0]
        stay = draw_stay(self.rng)
        exit_at = ts + stay
        self.scheduler.at(exit_at, lambda t: self.leave(t, plate, vehicle))
        due = self.facility.tariff.amount_due(stay)
        if due > 0 and self.rng.random() < PAYING_SHARE:
            # pay on foot 2-15 minutes before leaving, and never in the first five minutes
            pay_at = max(
                ts + timedelta(minutes=5), exit_at - self.seconds(self.rng.uniform(120, 900))
            )
            self.scheduler.at(pay_at, lambda t: self.pay(t, plate, due, exit_at))
        return [self._read(ts, plate, "IN", vehicle)]

    def pay(self, ts: datetime, plate: str, amount: Decimal, exit_at: datetime) -> list[Message]:
        """Pay on foot: now and then a declined card first, rarely a refund later."""
        terminal = self.rng.choice(self.terminals)
        method = self.rng.choices(_METHODS, _METHOD_WEIGHTS)[0]

        def paid(t: datetime, status: PaymentStatus = PaymentStatus.COMPLETED) -> list[Message]:
            return [self.payment(t, terminal, amount, status, plate=plate, method=method)]

        retry_at = ts + min(timedelta(seconds=40), (exit_at - ts) / 2)
        if method != PaymentMethod.CASH and retry_at > ts and self.rng.random() < 0.03:
            self.scheduler.at(retry_at.replace(microsecond=0), paid)
            return paid(ts, PaymentStatus.FAILED)
        if self.rng.random() < 0.005:
            refund_at = ts + self.seconds(self.rng.uniform(3600, 86400))
            self.scheduler.at(refund_at, lambda t: paid(t, PaymentStatus.REFUNDED))
        return paid(ts)

    def leave(self, ts: datetime, plate: str, vehicle: VehicleType) -> list[Message]:
        """The vehicle drives out (the camera may miss it)."""
        self.inside.discard(plate)
        if self.rng.random() < self.faults.missing_exit:
            self.truth["missed_exits"] += 1
            return []
        return [self._read(ts, plate, "OUT", vehicle)]


class StreetSite(Site):
    """On-street zones: a sensor in every bay and a pay-by-plate meter per zone."""

    def __init__(self, facility: Facility, config: SimulationConfig, truth: Counter[str]) -> None:
        super().__init__(facility, config, truth)
        self.new_plate = plate_maker(facility.timezone, self.rng)
        self.occupied: dict[str, bool] = {}
        self.sensor: dict[str, str] = {}
        self.battery: dict[str, float] = {}
        for zone in facility.zones:
            for n in range(1, zone.bays + 1):
                bay = f"{zone.zone_id}-B{n:03d}"
                self.occupied[bay] = False
                self.sensor[bay] = f"{self.rng.getrandbits(64):016X}"
                self.battery[bay] = self.rng.uniform(40, 100)
                first = config.start + self.seconds(
                    self.rng.uniform(0, config.heartbeat_interval_s)
                )
                self.scheduler.at(first, lambda t, z=zone, b=bay: self.heartbeat(t, z, b))
            self.schedule_arrivals(zone.bays, lambda t, z=zone: self.arrive(t, z))

    def _frame(self, ts: datetime, zone: Zone, bay: str) -> Message:
        device = self.sensor[bay]
        self.battery[bay] = max(0.0, self.battery[bay] - 0.01)
        local_hour = ts.astimezone(self.tz).hour
        bay_event = construct(
            BayStatusEvent,
            event_id=self.new_id(),
            facility_id=self.facility.facility_id,
            device_id=device,
            ts=ts,
            source=VENDOR_FOR["bay_sensor"],
            zone_id=zone.zone_id,
            bay_id=bay,
            occupied=self.occupied[bay],
        )
        daily_swing = 6 * math.sin((local_hour - 9) / 24 * 2 * math.pi)
        telemetry = self.telemetry(
            ts,
            device,
            voltage=round(3.0 + 0.6 * self.battery[bay] / 100, 3),
            current=round(self.rng.uniform(0.0008, 0.0016), 4),
            source=VENDOR_FOR["bay_sensor"],
            battery_pct=float(round(self.battery[bay])),
            temperature_c=round(8 + daily_swing + self.rng.uniform(-1, 1), 1),
            rssi_dbm=float(self.rng.randint(-118, -80)),
        )
        return self.message(ts, "bay_sensor", device, bay_event, telemetry)

    def heartbeat(self, ts: datetime, zone: Zone, bay: str) -> list[Message]:
        """The periodic status frame every sensor sends."""
        self.scheduler.at(
            ts + timedelta(seconds=self.config.heartbeat_interval_s),
            lambda t: self.heartbeat(t, zone, bay),
        )
        return [] if self._dark(self.sensor[bay], ts) else [self._frame(ts, zone, bay)]

    def arrive(self, ts: datetime, zone: Zone) -> list[Message]:
        """A car takes a free bay (if any), maybe pays at the meter, and leaves later."""
        free = [
            bay
            for bay in self.occupied
            if bay.startswith(zone.zone_id + "-") and not self.occupied[bay]
        ]
        if not free:
            self.truth["turned_away"] += 1
            return []
        bay = self.rng.choice(free)
        self.occupied[bay] = True
        self.truth["bay_stays"] += 1
        stay = draw_stay(self.rng)
        self.scheduler.at(ts + stay, lambda t: self.depart(t, zone, bay))
        messages = [self._frame(ts, zone, bay)]
        if stay >= timedelta(minutes=self.facility.tariff.grace_minutes) and (
            self.rng.random() < PAYING_SHARE
        ):
            pay_at = ts + self.seconds(self.rng.uniform(60, 240))
            honest = self.rng.random() < 0.7
            minutes = (
                math.ceil(stay.total_seconds() / 1800) * 30
                if honest
                else (max(15, round(stay.total_seconds() / 60 * self.rng.uniform(0.3, 0.8))))
            )
            if zone.max_stay_minutes:
                minutes = min(minutes, zone.max_stay_minutes)
            paid = timedelta(minutes=minutes)
            plate = self.new_plate() if self.rng.random() < 0.5 else None
            self.scheduler.at(
                pay_at,
                lambda t: [
                    self.payment(
                        t,
                        f"{self.facility.facility_id}-{zone.zone_id}-PM-1",
                        self.facility.tariff.amount_due(paid),
                        PaymentStatus.COMPLETED,
                        plate=plate,
                        paid_until=t + paid,
                    )
                ],
            )
        return messages

    def depart(self, ts: datetime, zone: Zone, bay: str) -> list[Message]:
        """The bay frees up."""
        self.occupied[bay] = False
        return [self._frame(ts, zone, bay)]


class CountedSite(Site):
    """A car park whose counting system reports vehicles inside every few minutes."""

    def __init__(self, facility: Facility, config: SimulationConfig, truth: Counter[str]) -> None:
        super().__init__(facility, config, truth)
        self.inside = 0
        self.device = f"{facility.facility_id}-CNT"
        self.schedule_arrivals(facility.capacity, self.arrive)
        self.scheduler.at(config.start + timedelta(seconds=config.count_interval_s), self.report)

    def arrive(self, ts: datetime) -> list[Message]:
        """A car enters if there is room; it leaves after its stay."""
        if self.inside >= self.facility.capacity:
            self.truth["turned_away"] += 1
            return []
        self.inside += 1
        self.truth["counted_stays"] += 1
        self.scheduler.at(ts + draw_stay(self.rng), self.depart)
        return []

    def depart(self, ts: datetime) -> list[Message]:
        """A car leaves."""
        self.inside -= 1
        return []

    def report(self, ts: datetime) -> list[Message]:
        """The count, now and then off by loop drift (above capacity, or below zero)."""
        self.scheduler.at(ts + timedelta(seconds=self.config.count_interval_s), self.report)
        occupied = self.inside
        if self.rng.random() < self.faults.out_of_range:
            self.truth["out_of_range_counts"] += 1
            occupied = (
                self.facility.capacity + self.rng.randint(1, 25)
                if self.rng.random() < 0.5
                else -self.rng.randint(1, 5)
            )
        self.truth["count_readings"] += 1
        event = construct(
            OccupancyCountEvent,
            event_id=self.new_id(),
            facility_id=self.facility.facility_id,
            device_id=self.device,
            ts=ts,
            source=VENDOR_FOR["counter"],
            occupied=occupied,
            capacity=self.facility.capacity,
            zone_id=None,
        )
        return [self.message(ts, "counter", self.device, event)]


SITES: dict[FacilityKind, type[Site]] = {
    FacilityKind.GATED: GatedSite,
    FacilityKind.ON_STREET: StreetSite,
    FacilityKind.COUNTED: CountedSite,
}


def simulate_world(
    config: SimulationConfig, facilities: tuple[Facility, ...], truth: Counter[str]
) -> Iterator[Message]:
    """Every facility's messages merged in time order (ties keep facility order)."""
    sites = [SITES[facility.kind](facility, config, truth) for facility in facilities]
    return heapq.merge(*(site.scheduler.run() for site in sites), key=lambda m: m.ts)
