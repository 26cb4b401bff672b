"""The estate: the operator's own sites, described once in files they own.

Facilities (kind, time zone, capacity over time, tariff, max stay), on-street zones with
their bays and signed restrictions, devices where known, and targets. Every layer reads
the same files (`PARKFLOW_ESTATE`; unset: the sample estate, the demo's six facilities):
the worker's capacities, the simulator's world, dbt's estate tables, the dashboards.
"""

from parkflow.estate.loading import (
    SAMPLE_ESTATE,
    EstateError,
    Problem,
    estate_files,
    load_estate,
    sample_estate,
)
from parkflow.estate.model import (
    CapacityPeriod,
    Device,
    Estate,
    Facility,
    FacilityKind,
    Restriction,
    Zone,
    capacities,
    max_stays,
)

__all__ = [
    "SAMPLE_ESTATE",
    "CapacityPeriod",
    "Device",
    "Estate",
    "EstateError",
    "Facility",
    "FacilityKind",
    "Problem",
    "Restriction",
    "Zone",
    "capacities",
    "estate_files",
    "load_estate",
    "max_stays",
    "sample_estate",
]
