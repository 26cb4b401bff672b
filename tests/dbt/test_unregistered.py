"""A facility missing from the estate: its events are kept and counted, never a reason to skip
the marts of the registered ones."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from parkflow.batch import build_lake
from parkflow.estate import sample_estate
from parkflow.importing import import_files
from parkflow.registry import PluginRegistry
from parkflow.simulator import SimulationConfig
from tests.dbt.conftest import dbt

KEY = b"dbt-tests-plate-key-unregistered"
CONFIG = SimulationConfig(start=datetime(2026, 11, 2, tzinfo=UTC), days=0.25, facilities=3, seed=5)
FEED = """carpark_id,name,last_update,occupied,capacity,state
GONE-9,Old Depot,2026-11-02 02:00:00,12,50,open
GONE-9,Old Depot,2026-11-02 03:00:00,14,50,open
GONE-9,Old Depot,2026-11-02 04:00:00,99,50,open
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    work = tmp_path_factory.mktemp("unregistered")
    data_dir = work / "data"
    build_lake(data_dir, CONFIG, plate_key=KEY)
    feed = work / "citycount.csv"
    feed.write_text(FEED)
    registry = PluginRegistry.discover()
    report = import_files([("citycount", feed)], registry, data_dir, sample_estate(), plate_key=KEY)
    assert report.unknown_facilities == {"GONE-9": 3}
    results = dbt("build", data_dir, work)  # fails the test unless every node passes or warns
    warned = {r["unique_id"].split(".")[2] for r in results["results"] if r["status"] == "warn"}
    assert any(name.startswith("relationships_stg_events_facility_id") for name in warned)
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        yield con


def test_the_registered_facilities_marts_are_built(warehouse):
    built = warehouse.execute(
        "select distinct facility_id from mart_occupancy_hourly order by 1"
    ).fetchall()
    assert built == [("FAC-001",), ("FAC-002",), ("FAC-003",)]


def test_no_mart_holds_the_unregistered_facility(warehouse):
    marts = [
        name
        for (name,) in warehouse.execute(
            "select table_name from information_schema.columns "
            "where column_name = 'facility_id' and table_name like 'mart_%' "
            "or column_name = 'facility_id' and table_name like 'fct_%'"
        ).fetchall()
    ]
    assert "mart_occupancy_hourly" in marts
    for mart in marts:
        found = warehouse.execute(
            f"select count(*) from {mart} where facility_id = 'GONE-9'"
        ).fetchall()
        assert found == [(0,)], mart


def test_the_unregistered_events_are_counted_per_vendor_and_day(warehouse):
    rows = warehouse.execute(
        "select date, source, unregistered_events, unregistered_facilities "
        "from mart_data_quality_daily where unregistered_events > 0"
    ).fetchall()
    assert rows == [(datetime(2026, 11, 2).date(), "citycount", 3, ["GONE-9"])]
