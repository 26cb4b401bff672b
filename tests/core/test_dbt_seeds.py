"""The dbt seeds stay in step with the simulator's catalogue and the canonical vocabularies."""

import csv

from parkflow.dbt_seeds import SEEDS_DIR, generated_seeds
from parkflow.events import PaymentMethod
from parkflow.simulator.catalog import FACILITIES


def read_csv(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_facility_and_zone_seeds_are_generated_from_the_catalogue():
    for name, text in generated_seeds().items():
        assert (SEEDS_DIR / name).read_text() == text, (
            f"dbt_project/seeds/{name} is out of date: run `python -m parkflow.dbt_seeds`"
        )


def test_facility_seed_carries_capacity_timezone_and_tariff():
    rows = {row["facility_id"]: row for row in read_csv("facilities.csv")}
    assert rows.keys() == {f.facility_id for f in FACILITIES}
    airport = rows["FAC-004"]
    assert (airport["kind"], airport["capacity"], airport["timezone"]) == (
        "gated",
        "250",
        "Europe/London",
    )
    assert (airport["base_fee"], airport["hourly_rate"], airport["max_fee"]) == (
        "3.00",
        "4.50",
        "40.00",
    )
    assert airport["grace_minutes"] == "10"


def test_on_street_capacity_is_the_sum_of_its_zones():
    zones = read_csv("zones.csv")
    for facility in FACILITIES:
        bays = sum(int(z["bays"]) for z in zones if z["facility_id"] == facility.facility_id)
        assert bays == (facility.capacity if facility.zones else 0)


def test_targets_name_known_facilities_zones_and_metrics():
    facilities = {f.facility_id: f for f in FACILITIES}
    for row in read_csv("targets.csv"):
        facility = facilities[row["facility_id"]]
        if row["zone_id"]:
            assert row["zone_id"] in {z.zone_id for z in facility.zones}
        assert row["metric"] in {"revenue", "occupancy_rate", "sessions"}
        assert float(row["daily_target"]) > 0
        if row["metric"] == "occupancy_rate":
            assert float(row["daily_target"]) <= 1


def test_payment_methods_seed_lists_the_canonical_methods():
    assert {row["method"] for row in read_csv("payment_methods.csv")} == set(PaymentMethod)
