"""No licence plate in clear text after the normalize step while hashing is on (issue 9,
part 5c): simulated traffic (misreads and corrupted payloads included) through a real worker,
then every file of its lake, the warehouse dbt built from it, the published marts and the
worker's log are searched for the plates the simulator sent."""

from __future__ import annotations

import pytest

from tests.reliability.attack_surface.plate_scan import (
    PlateFinder,
    scan_database,
    scan_files,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def finder(published) -> PlateFinder:
    """Finds the simulated vehicles' plates."""
    return PlateFinder(published.plates)


def test_the_search_finds_the_plates_in_what_was_sent(published, finder):
    """The search is not blind: the payloads hold the plates, corrupted ones included."""
    sent = set().union(*(finder.find(p.data.decode("latin-1")) for p in published.payloads))
    assert len(sent) >= 0.9 * len(published.plates) > 100
    corrupted = [p for p in published.payloads if p.corrupted]
    assert any(finder.find(p.data.decode("latin-1")) for p in corrupted), (
        "no corrupted payload held a plate: the dead letters would prove nothing"
    )


def test_no_plate_in_any_file_of_the_lake(published, finder):
    lake = published.data_dir / "lake"
    tables = {path.name for path in (lake / "raw").iterdir()}
    assert {"events", "sessions", "deadletter"} <= tables
    assert scan_files(finder, lake) == []


def test_no_plate_in_the_warehouse(published, finder):
    found, relations = scan_database(finder, published.warehouse)
    assert relations >= len(published.marts)
    assert found == []


def test_no_plate_in_the_published_marts(published, finder):
    assert sorted(p.stem for p in published.marts_dir.glob("*.parquet")) == published.marts
    assert scan_files(finder, published.marts_dir) == []


def test_no_plate_in_the_worker_log(exposed_worker, published, finder):
    assert finder.find(exposed_worker.log.read_text(errors="replace")) == set()
