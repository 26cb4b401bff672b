"""The estate: the sample loads, every problem is named by file, line and field, tables export."""

from __future__ import annotations

import csv
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from parkflow.estate import (
    EstateError,
    FacilityKind,
    capacities,
    load_estate,
    max_stays,
    sample_estate,
)
from parkflow.estate.tables import SCHEMAS, estate_dir, write_estate_tables
from parkflow.events import PaymentMethod

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(EstateError) as caught:
        load_estate(path)
    return [str(p) for p in caught.value.problems]


def test_sample_estate_has_the_six_demo_facilities_of_each_kind():
    estate = sample_estate()
    assert [f.facility_id for f in estate.facilities] == [f"FAC-00{n}" for n in range(1, 7)]
    assert {f.kind for f in estate.facilities} == set(FacilityKind)
    airport = estate.by_id["FAC-004"]
    assert (airport.capacity, airport.timezone, airport.currency) == (250, "Europe/London", "GBP")
    assert airport.tariff.amount_due(__import__("datetime").timedelta(hours=2)) == Decimal("12.00")
    for facility in estate.facilities:
        if facility.zones:
            assert facility.capacity == sum(z.bays for z in facility.zones)


def test_capacities_and_max_stays_are_read_from_the_estate():
    facilities = sample_estate().facilities
    assert capacities(facilities)["FAC-002/Z-01"] == 40
    assert capacities(facilities)["FAC-003"] == 600
    assert max_stays(facilities)["FAC-004"].total_seconds() == 24 * 3600


def test_a_facility_of_any_name_zone_and_capacity_history(tmp_path):
    path = write(
        tmp_path,
        "estate.yaml",
        """
facilities:
  - id: QUAY-7
    name: "Parkhaus am Kai / Süd — P7"
    kind: gated
    timezone: Asia/Kolkata
    capacity:
      - {spaces: 80}
      - {from: 2026-03-01, spaces: 120}
    tariff: {base_fee: 0, hourly_rate: 40, max_fee: 300, grace_minutes: 15}
""",
    )
    facility = load_estate(path).facilities[0]
    assert facility.facility_id == "QUAY-7"
    assert facility.capacity_on(date(2026, 2, 28)) == 80
    assert facility.capacity_on(date(2026, 3, 1)) == 120
    assert facility.tariff.max_fee == Decimal("300.00")


def test_every_problem_is_named_by_file_line_and_field(tmp_path):
    write(
        tmp_path,
        "a.yaml",
        """tariffs:
  std: {base_fee: 1, hourly_rate: 2, max_fee: 10}
facilities:
  - id: P1
    name: Quay
    kind: gated
    timezone: europe/london
    capacity: 0
    tariff: cheap
  - id: K1
    name: Mall
    kind: counted
    timezone: UTC
    capacity: 100
    targets: {occupancy_rate: 1.5}
    colour: red
""",
    )
    write(
        tmp_path,
        "b.yml",
        """facilities:
  - id: S1
    name: Street
    kind: on_street
    timezone: Australia/Adelaide
    zones:
      - id: Z
        bays: 3
        restrictions:
          - {days: funday, max_stay_minutes: 5}
""",
    )
    found = problems(tmp_path)
    a, b = tmp_path / "a.yaml", tmp_path / "b.yml"
    assert found == [
        f"{a}:7: facilities[0] (P1).timezone: unknown time zone 'europe/london' "
        "(did you mean Europe/London?)",
        f"{a}:8: facilities[0] (P1).capacity[0].spaces: Input should be greater than or equal to 1",
        f"{a}:9: facilities[0] (P1).tariff: unknown tariff 'cheap' (the estate's tariffs: std)",
        f"{a}:15: facilities[1] (K1).targets: target occupancy_rate is a share (0..1], got 1.5",
        f"{a}:16: facilities[1] (K1).colour: Extra inputs are not permitted",
        f"{b}:10: facilities[0] (S1).zones[0] (Z).restrictions[0].days: unknown day 'funday' "
        "(days are mon, tue, wed, thu, fri, sat, sun, or daily)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("facilities: [\n  {id: A", "estate.yaml:2: is not valid YAML"),
        ("- just a list", "estate.yaml:1: must be a mapping"),
        ("facilities: []", "facilities: the estate lists no facility"),
        (
            "facilities:\n  - {id: A, name: a, kind: gated, timezone: UTC, capacity: 1}\n"
            "  - {id: A, name: b, kind: gated, timezone: UTC, capacity: 2}",
            "estate.yaml:3: facilities[1] (A): the same facility id is described at",
        ),
        (
            "facilities:\n  - {id: A, name: a, kind: gated, timezone: UTC,\n"
            "     capacity: [{from: 2026-02-01, spaces: 1}, {from: 2026-01-01, spaces: 2}]}",
            "estate.yaml:2: facilities[0] (A): capacity: periods must be in order",
        ),
        (
            "facilities:\n  - {id: A/B, name: a, kind: gated, timezone: UTC, capacity: 1}",
            "facilities[0] (A/B).id: String should match pattern",
        ),
        (
            "facilities:\n  - {id: A, name: a, kind: counted, timezone: UTC, capacity: 1,\n"
            "     zones: [{id: Z, bays: 1}]}",
            "zones are for on-street facilities; this one is counted",
        ),
    ],
)
def test_invalid_estates_say_what_is_wrong(tmp_path, text, expected):
    found = problems(write(tmp_path, "estate.yaml", text))
    assert len(found) == 1
    assert expected in found[0]


def test_a_missing_estate_is_a_clear_error(tmp_path):
    assert problems(tmp_path / "nowhere.yaml") == [
        f"{tmp_path / 'nowhere.yaml'}: does not exist (PARKFLOW_ESTATE)"
    ]
    assert problems(tmp_path) == [f"{tmp_path}: holds no .yaml or .yml file"]


def test_restriction_days_and_windows(tmp_path):
    path = write(
        tmp_path,
        "estate.yaml",
        """
facilities:
  - id: S
    name: Street
    kind: on_street
    timezone: Europe/Paris
    zones:
      - id: Z1
        bays: 10
        restrictions:
          - {days: mon-sat, from: "07:30", to: "20:30", max_stay_minutes: 120}
          - {days: "fri-mon", from: "20:00", to: "08:00", max_stay_minutes: 600}
          - {days: [sun], max_stay_minutes: 240}
""",
    )
    weekday, overnight, sunday = load_estate(path).facilities[0].zones[0].restrictions
    assert weekday.days == (1, 2, 3, 4, 5, 6)
    assert (weekday.start, weekday.end) == (time(7, 30), time(20, 30))
    assert overnight.days == (1, 5, 6, 7)
    assert sunday.days == (7,)


def test_estate_tables_hold_every_fact_once(tmp_path):
    estate = sample_estate()
    files = write_estate_tables(estate, tmp_path)
    assert {f.stem for f in files} == set(SCHEMAS)
    assert all(f.parent == estate_dir(tmp_path) for f in files)
    facilities = pq.read_table(estate_dir(tmp_path) / "facilities.parquet").to_pylist()
    assert [row["capacity"] for row in facilities] == [f.capacity for f in estate.facilities]
    targets = pq.read_table(estate_dir(tmp_path) / "targets.parquet").to_pylist()
    assert {"facility_id": "FAC-002", "zone_id": "Z-01", "metric": "occupancy_rate",
            "daily_target": 0.45} in targets  # fmt: skip
    periods = pq.read_table(estate_dir(tmp_path) / "capacities.parquet").to_pylist()
    assert len(periods) == len(estate.facilities)
    assert not list(estate_dir(tmp_path).glob(".*"))  # no temporary file left


def test_payment_methods_seed_lists_the_canonical_methods():
    with (SEEDS / "payment_methods.csv").open(newline="") as handle:
        assert {row["method"] for row in csv.DictReader(handle)} == set(PaymentMethod)
