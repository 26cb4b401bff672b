"""The facilities the simulator operates (the dbt `facilities` and `zones` seeds match them).

Three kinds, as cities run them: gated garages (ANPR cameras at the gates, pay
stations, gate controllers and EV chargers), on-street zones (a sensor in each
bay and a meter per zone), and counted car parks (a counting system that only
reports how many vehicles are inside).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from parkflow.tariff import Tariff


class FacilityKind(StrEnum):
    """How a facility knows who or how many are inside."""

    GATED = "gated"
    ON_STREET = "on_street"
    COUNTED = "counted"


@dataclass(frozen=True, slots=True)
class Zone:
    """An on-street zone: a street section of sensor-equipped bays with a maximum stay."""

    zone_id: str
    name: str
    bays: int
    max_stay_minutes: int


@dataclass(frozen=True, slots=True)
class Facility:
    """A site ParkFlow operates."""

    facility_id: str
    name: str
    kind: FacilityKind
    capacity: int
    timezone: str
    lat: float
    lon: float
    currency: str
    tariff: Tariff = field(default_factory=Tariff)
    max_stay_hours: int = 72
    zones: tuple[Zone, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        """The facility's time zone."""
        return ZoneInfo(self.timezone)


def _tariff(base: str, hourly: str, cap: str, grace: int = 5) -> Tariff:
    return Tariff(Decimal(base), Decimal(hourly), Decimal(cap), grace)


FACILITIES: tuple[Facility, ...] = (
    Facility("FAC-001", "Central Station Garage", FacilityKind.GATED, 400, "Europe/Amsterdam",
             52.3791, 4.9003, "EUR"),
    Facility("FAC-002", "Old Town Streets", FacilityKind.ON_STREET, 70, "Europe/Amsterdam",
             52.3731, 4.8926, "EUR", _tariff("0.00", "4.00", "16.00"), 24,
             (Zone("Z-01", "Market Square", 40, 120), Zone("Z-02", "Canal Side", 30, 180))),
    Facility("FAC-003", "Riverside P+R", FacilityKind.COUNTED, 600, "Europe/Amsterdam",
             52.3447, 4.9180, "EUR", _tariff("1.00", "1.00", "6.00"), 72),
    Facility("FAC-004", "Airport Short Stay", FacilityKind.GATED, 250, "Europe/London",
             51.4706, -0.4619, "GBP", _tariff("3.00", "4.50", "40.00", 10), 24),
    Facility("FAC-005", "Harbour Retail Park", FacilityKind.GATED, 300, "Europe/Amsterdam",
             51.9036, 4.4855, "EUR", _tariff("1.50", "2.50", "15.00", 15), 72),
    Facility("FAC-006", "University District", FacilityKind.ON_STREET, 60, "Europe/Brussels",
             50.8798, 4.7005, "EUR", _tariff("0.00", "2.50", "10.00"), 24,
             (Zone("Z-03", "Library Lane", 25, 240), Zone("Z-04", "Campus East", 35, 120))),
)  # fmt: skip

FACILITIES_BY_ID: dict[str, Facility] = {f.facility_id: f for f in FACILITIES}


def first_facilities(count: int) -> tuple[Facility, ...]:
    """The first `count` facilities of the catalogue (each kind is present from 3 on)."""
    if not 1 <= count <= len(FACILITIES):
        raise ValueError(f"the simulator knows {len(FACILITIES)} facilities; asked for {count}")
    return FACILITIES[:count]
