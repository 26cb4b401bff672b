"""What an estate is: facilities, their zones, capacities over time, tariffs, restrictions.

These are the validated, immutable objects every layer works with. Reading them from the
operator's YAML files (with errors by file, line and field) is `parkflow.estate.loading`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from parkflow.events import Identifier
from parkflow.tariff import Tariff

#: An id as the devices send it: the canonical events' identifier (letters, digits, `_.:-`),
#: so that every id the estate registers can match events. No '/', which joins the ids of a
#: facility, a zone and a bay into one subject id ("FAC-002/Z-01/B-7").
Id = Identifier
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
METRICS = ("revenue", "occupancy_rate", "sessions")


class FacilityKind(StrEnum):
    """How a facility knows who or how many are inside."""

    GATED = "gated"  # ANPR cameras at the gates: sessions
    ON_STREET = "on_street"  # a sensor in each bay: bay stays
    COUNTED = "counted"  # a counting system reports how many vehicles are inside


class _Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, arbitrary_types_allowed=True
    )


class CapacityPeriod(_Frozen):
    """Spaces in force from a local date (`since`; None: from the start) until the next period."""

    since: date | None = Field(default=None, alias="from")
    spaces: int = Field(ge=1)


def _days(value: Any) -> tuple[int, ...]:
    """'mon-sat', 'mon,wed,fri', ['sat', 'sun'] or 'daily' -> ISO days of the week (1 = Monday)."""
    names = value if isinstance(value, list | tuple) else re.split(r"\s*,\s*", str(value).strip())
    days: set[int] = set()
    for name in (str(n).strip().lower() for n in names):
        if name in ("daily", "all", "every day"):
            days.update(range(1, 8))
        elif "-" in name:
            first, _, last = (part.strip()[:3] for part in name.partition("-"))
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"unknown day range {name!r} (days are {', '.join(DAYS)})")
            start, end = DAYS.index(first), DAYS.index(last)
            span = range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
            days.update(d + 1 for d in span)
        elif name[:3] in DAYS and DAYS[DAYS.index(name[:3])].startswith(name[:3]):
            days.add(DAYS.index(name[:3]) + 1)
        else:
            raise ValueError(f"unknown day {name!r} (days are {', '.join(DAYS)}, or daily)")
    return tuple(sorted(days))


class Restriction(_Frozen):
    """A signed restriction: the longest stay on some days between two local times.

    `to` before `from` is a window past midnight (20:00-08:00 of the next morning).
    """

    days: tuple[int, ...] = Field(default=tuple(range(1, 8)))
    start: time = Field(default=time(0, 0), alias="from")
    end: time = Field(default=time(23, 59, 59), alias="to")
    max_stay_minutes: int = Field(ge=1)

    @field_validator("days", mode="before")
    @classmethod
    def _parse_days(cls, value: Any) -> tuple[int, ...]:
        return _days(value)

    @model_validator(mode="after")
    def _not_empty(self) -> Restriction:
        if self.start == self.end:
            raise ValueError("from and to are the same time: the window is empty")
        return self


class Zone(_Frozen):
    """An on-street zone: a street section of sensor-equipped bays."""

    zone_id: Id = Field(alias="id")
    name: str = Field(default="", max_length=200)
    bays: int = Field(ge=1)
    max_stay_minutes: int | None = Field(
        default=None, ge=1, description="The longest stay outside the restriction windows."
    )
    restrictions: tuple[Restriction, ...] = ()
    targets: dict[str, float] = Field(default_factory=dict)

    @field_validator("targets")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_targets(value)


class Device(_Frozen):
    """A device the operator knows of (optional: devices are also learned from their events)."""

    device_id: Id = Field(alias="id")
    vendor: str | None = None
    kind: str | None = None
    zone_id: Id | None = Field(default=None, alias="zone")


def _check_targets(value: dict[str, float]) -> dict[str, float]:
    for metric, target in value.items():
        if metric not in METRICS:
            raise ValueError(f"unknown target {metric!r} (targets are {', '.join(METRICS)})")
        if not target > 0:
            raise ValueError(f"target {metric} must be above 0, got {target}")
        if metric == "occupancy_rate" and target > 1:
            raise ValueError(f"target occupancy_rate is a share (0..1], got {target}")
    return value


class Facility(_Frozen):
    """A site the operator runs."""

    facility_id: Id = Field(alias="id")
    name: str = Field(min_length=1, max_length=200)
    kind: FacilityKind
    timezone: str
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    capacities: tuple[CapacityPeriod, ...] = Field(default=(), alias="capacity")
    tariff: Tariff = Field(default_factory=Tariff)
    max_stay_hours: int = Field(default=72, ge=1, le=24 * 366)
    zones: tuple[Zone, ...] = ()
    devices: tuple[Device, ...] = ()
    targets: dict[str, float] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = [z for z in available_timezones() if z.lower() == value.lower()]
            hint = f" (did you mean {close[0]}?)" if close else " (an IANA name: Europe/Paris)"
            raise ValueError(f"unknown time zone {value!r}{hint}") from None
        return value

    @field_validator("capacities", mode="before")
    @classmethod
    def _periods(cls, value: Any) -> Any:
        """A plain number is one period in force from the start."""
        if isinstance(value, int | str) and not isinstance(value, bool):
            return ({"spaces": value},)
        return value

    @field_validator("tariff", mode="before")
    @classmethod
    def _named_tariff(cls, value: Any, info: ValidationInfo) -> Any:
        """A tariff is given inline or by the name of one of the estate's `tariffs`."""
        if not isinstance(value, str):
            return value
        tariffs = (info.context or {}).get("tariffs", {})
        if value not in tariffs:
            known = ", ".join(sorted(tariffs)) or "none"
            raise ValueError(f"unknown tariff {value!r} (the estate's tariffs: {known})")
        return tariffs[value]

    @field_validator("targets")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_targets(value)

    @model_validator(mode="after")
    def _consistent(self) -> Facility:
        if not self.capacities:
            if not self.zones:
                raise ValueError("capacity is missing (on-street: give zones with bays)")
            total = sum(zone.bays for zone in self.zones)
            object.__setattr__(self, "capacities", (CapacityPeriod(spaces=total),))
        dates = [p.since for p in self.capacities]
        if None in dates[1:]:
            raise ValueError("capacity: only the first period may leave out `from`")
        dated = [d for d in dates if d is not None]
        if dated != sorted(set(dated)):
            raise ValueError("capacity: periods must be in order of `from`, each date once")
        if self.zones and self.kind is not FacilityKind.ON_STREET:
            raise ValueError(f"zones are for on-street facilities; this one is {self.kind.value}")
        zone_ids = [z.zone_id for z in self.zones]
        if len(zone_ids) != len(set(zone_ids)):
            raise ValueError("zones: the same zone id twice")
        unknown = {d.zone_id for d in self.devices} - {None, *zone_ids}
        if unknown:
            raise ValueError(f"devices name zones the facility does not have: {sorted(unknown)}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The facility's time zone."""
        return ZoneInfo(self.timezone)

    def capacity_on(self, day: date) -> int:
        """Spaces in force on a local date (the first period's before it begins)."""
        spaces = self.capacities[0].spaces
        for period in self.capacities:
            if period.since is None or period.since <= day:
                spaces = period.spaces
        return spaces

    @property
    def capacity(self) -> int:
        """Spaces in force today (local date)."""
        return self.capacity_on(datetime.now(UTC).astimezone(self.tz).date())


class Estate(_Frozen):
    """Every facility of an operator, in the order the files list them."""

    facilities: tuple[Facility, ...]
    tariffs: dict[str, Tariff] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_ids(self) -> Estate:
        seen: set[str] = set()
        for facility in self.facilities:
            if facility.facility_id in seen:
                raise ValueError(f"facility {facility.facility_id!r} is described twice")
            seen.add(facility.facility_id)
        return self

    @cached_property
    def by_id(self) -> dict[str, Facility]:
        """Facilities by id."""
        return {f.facility_id: f for f in self.facilities}


def capacities(facilities: Iterable[Facility]) -> dict[str, int]:
    """Capacity in force today of each facility ("FAC-001") and on-street zone ("FAC-002/Z-01")."""
    result: dict[str, int] = {}
    for facility in facilities:
        result[facility.facility_id] = facility.capacity
        for zone in facility.zones:
            result[f"{facility.facility_id}/{zone.zone_id}"] = zone.bays
    return result


def max_stays(facilities: Iterable[Facility]) -> dict[str, timedelta]:
    """Each facility's max stay: a session open longer is closed as abandoned."""
    return {f.facility_id: timedelta(hours=f.max_stay_hours) for f in facilities}
