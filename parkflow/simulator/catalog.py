"""The facilities the simulator operates: the sample estate (`parkflow/estate/sample/estate.yaml`).

Three kinds, as cities run them: gated garages (ANPR cameras at the gates, pay
stations, gate controllers and EV chargers), on-street zones (a sensor in each
bay and a meter per zone), and counted car parks (a counting system that only
reports how many vehicles are inside).
"""

from __future__ import annotations

from parkflow.estate import Facility, FacilityKind, Zone, sample_estate

FACILITIES: tuple[Facility, ...] = sample_estate().facilities
FACILITIES_BY_ID: dict[str, Facility] = {f.facility_id: f for f in FACILITIES}

__all__ = ["FACILITIES", "FACILITIES_BY_ID", "Facility", "FacilityKind", "Zone", "first_facilities"]


def first_facilities(count: int) -> tuple[Facility, ...]:
    """The first `count` facilities of the sample estate (each kind is present from 3 on)."""
    if not 1 <= count <= len(FACILITIES):
        raise ValueError(f"the simulator knows {len(FACILITIES)} facilities; asked for {count}")
    return FACILITIES[:count]
