"""The dbt seeds that describe the facilities, generated from the simulator's catalogue.

`dbt_project/seeds/facilities.csv` and `zones.csv` are written by this module, so the
warehouse and the simulator never disagree on a capacity, a time zone or a tariff (a
test checks the files are in step). Regenerate them after changing the catalogue::

    python -m parkflow.dbt_seeds
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from parkflow.simulator.catalog import FACILITIES, Facility

SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"

FACILITY_COLUMNS = (
    "facility_id", "name", "kind", "capacity", "timezone", "lat", "lon", "base_fee",
    "hourly_rate", "max_fee", "grace_minutes", "max_stay_hours", "currency",
)  # fmt: skip
ZONE_COLUMNS = ("facility_id", "zone_id", "name", "bays", "max_stay_minutes")


def facility_rows(facilities: Iterable[Facility] = FACILITIES) -> list[dict[str, object]]:
    """One row per facility: kind, capacity, time zone, location and tariff."""
    return [
        {
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
        for f in facilities
    ]


def zone_rows(facilities: Iterable[Facility] = FACILITIES) -> list[dict[str, object]]:
    """One row per on-street zone: its bays (capacity) and maximum stay."""
    return [
        {
            "facility_id": f.facility_id,
            "zone_id": z.zone_id,
            "name": z.name,
            "bays": z.bays,
            "max_stay_minutes": z.max_stay_minutes,
        }
        for f in facilities
        for z in f.zones
    ]


def to_csv(columns: tuple[str, ...], rows: list[dict[str, object]]) -> str:
    """Rows as CSV text with a header and Unix line ends."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def generated_seeds() -> dict[str, str]:
    """File name -> content of every generated seed."""
    return {
        "facilities.csv": to_csv(FACILITY_COLUMNS, facility_rows()),
        "zones.csv": to_csv(ZONE_COLUMNS, zone_rows()),
    }


def write_seeds(folder: Path = SEEDS_DIR) -> list[Path]:
    """Write the generated seeds into `folder`; returns the files."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated_seeds().items():
        path = folder / name
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_seeds():
        print(f"wrote {path}")
