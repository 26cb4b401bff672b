"""The estate as tables for the warehouse: `<data dir>/lake/estate/<table>.parquet`.

dbt reads them as the source `estate` (models/estate/), so the marts use the capacities,
time zones, tariffs, restrictions and targets of the estate files, never a copy. Whoever
runs dbt writes them first from the current files (the Dagster build, `parkflow lake build`,
`parkflow import`, `parkflow estate export`), so the next build uses an edited estate.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from parkflow.estate.model import Estate, Facility

_MONEY = pa.decimal128(12, 2)

SCHEMAS: dict[str, pa.Schema] = {
    "facilities": pa.schema(
        [
            ("facility_id", pa.string()), ("name", pa.string()), ("kind", pa.string()),
            ("capacity", pa.int32()), ("timezone", pa.string()), ("lat", pa.float64()),
            ("lon", pa.float64()), ("base_fee", _MONEY), ("hourly_rate", _MONEY),
            ("max_fee", _MONEY), ("grace_minutes", pa.int32()), ("max_stay_hours", pa.int32()),
            ("currency", pa.string()),
        ]
    ),
    "capacities": pa.schema(
        [
            ("facility_id", pa.string()), ("valid_from", pa.date32()),
            ("valid_to", pa.date32()), ("capacity", pa.int32()),
        ]
    ),
    "zones": pa.schema(
        [
            ("facility_id", pa.string()), ("zone_id", pa.string()), ("name", pa.string()),
            ("bays", pa.int32()), ("max_stay_minutes", pa.int32()),
        ]
    ),
    "restrictions": pa.schema(
        [
            ("facility_id", pa.string()), ("zone_id", pa.string()), ("day_of_week", pa.int8()),
            ("start_time", pa.time64("us")), ("end_time", pa.time64("us")),
            ("max_stay_minutes", pa.int32()),
        ]
    ),
    "devices": pa.schema(
        [
            ("facility_id", pa.string()), ("device_id", pa.string()), ("vendor", pa.string()),
            ("kind", pa.string()), ("zone_id", pa.string()),
        ]
    ),
    "targets": pa.schema(
        [
            ("facility_id", pa.string()), ("zone_id", pa.string()), ("metric", pa.string()),
            ("daily_target", pa.float64()),
        ]
    ),
}  # fmt: skip


def _facility_row(f: Facility) -> dict[str, Any]:
    return {
        "facility_id": f.facility_id,
        "name": f.name,
        "kind": f.kind.value,
        "capacity": f.capacity,
        "timezone": f.timezone,
        "lat": f.lat,
        "lon": f.lon,
        "base_fee": f.tariff.base_fee,
        "hourly_rate": f.tariff.hourly_rate,
        "max_fee": f.tariff.max_fee,
        "grace_minutes": f.tariff.grace_minutes,
        "max_stay_hours": f.max_stay_hours,
        "currency": f.currency,
    }


def _capacity_rows(f: Facility) -> Iterable[dict[str, Any]]:
    periods = f.capacities
    for period, following in zip(periods, (*periods[1:], None), strict=True):
        yield {
            "facility_id": f.facility_id,
            "valid_from": period.since,
            "valid_to": following.since if following else None,
            "capacity": period.spaces,
        }


def _target_rows(f: Facility) -> Iterable[dict[str, Any]]:
    for metric, target in f.targets.items():
        yield {"facility_id": f.facility_id, "zone_id": None, "metric": metric,
               "daily_target": target}  # fmt: skip
    for zone in f.zones:
        for metric, target in zone.targets.items():
            yield {"facility_id": f.facility_id, "zone_id": zone.zone_id, "metric": metric,
                   "daily_target": target}  # fmt: skip


def estate_rows(estate: Estate) -> dict[str, list[dict[str, Any]]]:
    """Table name -> rows, for every table of `SCHEMAS`."""
    facilities = estate.facilities
    return {
        "facilities": [_facility_row(f) for f in facilities],
        "capacities": [row for f in facilities for row in _capacity_rows(f)],
        "zones": [
            {
                "facility_id": f.facility_id,
                "zone_id": z.zone_id,
                "name": z.name or z.zone_id,
                "bays": z.bays,
                "max_stay_minutes": z.max_stay_minutes,
            }
            for f in facilities
            for z in f.zones
        ],
        "restrictions": [
            {
                "facility_id": f.facility_id,
                "zone_id": z.zone_id,
                "day_of_week": day,
                "start_time": r.start,
                "end_time": r.end,
                "max_stay_minutes": r.max_stay_minutes,
            }
            for f in facilities
            for z in f.zones
            for r in z.restrictions
            for day in r.days
        ],
        "devices": [
            {
                "facility_id": f.facility_id,
                "device_id": d.device_id,
                "vendor": d.vendor,
                "kind": d.kind,
                "zone_id": d.zone_id,
            }
            for f in facilities
            for d in f.devices
        ],
        "targets": [row for f in facilities for row in _target_rows(f)],
    }


def estate_dir(data_dir: Path) -> Path:
    """Where the estate tables live: `<data dir>/lake/estate/`."""
    return data_dir / "lake" / "estate"


def write_estate_tables(estate: Estate, data_dir: Path) -> list[Path]:
    """Write every estate table (each file replaced atomically); returns the files."""
    folder = estate_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in estate_rows(estate).items():
        path = folder / f"{name}.parquet"
        temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMAS[name]), temporary)
        os.replace(temporary, path)
        written.append(path)
    return written
