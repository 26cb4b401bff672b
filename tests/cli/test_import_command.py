"""`parkflow import`: vendor history into the lake through the stream's own steps, no Kafka."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from parkflow.estate.tables import estate_dir

KEY = "import-tests-plate-key-0123"
LATEST = {
    "sessions": "select session_id, status, entry_ts, exit_ts, amount_paid, close_reason "
    "from read_parquet('{lake}/sessions/*/*.parquet') "
    "qualify row_number() over (partition by session_id order by version desc) = 1",
    "events": "select distinct event_id, event_type, ts, plate, facility_id "
    "from read_parquet('{lake}/events/*/*.parquet')",
    "anomalies": "select distinct anomaly_type, event_id "
    "from read_parquet('{lake}/anomalies/*/*.parquet')",
    "alerts": "select distinct alert_id, state, ts from read_parquet('{lake}/alerts/*/*.parquet')",
}


def rows(data_dir, table: str) -> set[tuple]:
    query = LATEST[table].format(lake=data_dir / "lake" / "raw")
    return set(duckdb.connect().execute(query).fetchall())


@pytest.fixture
def simulated(cli, tmp_path, monkeypatch):
    """Vendor files of 0.3 days at three facilities (with the simulator's faults)."""
    monkeypatch.setenv("PARKFLOW_PLATE_KEY", KEY)
    out = tmp_path / "files"
    args = ["--start", "2026-11-02", "--days", "0.3", "--facilities", "3", "--seed", "4"]
    assert cli("simulate", *args, "--out", out).exit_code == 0
    return out, args


def test_import_lands_what_the_batch_build_of_the_same_traffic_lands(cli, simulated, tmp_path):
    files, args = simulated
    imported, built = tmp_path / "imported", tmp_path / "built"
    result = cli("import", files, "--data-dir", imported)
    assert result.exit_code == 0, result.output
    assert cli("lake", "build", *args, "--data-dir", built).exit_code == 0
    for table in LATEST:
        found = rows(imported, table)
        assert found, table
        assert found == rows(built, table), table
    assert (estate_dir(imported) / "facilities.parquet").exists()
    events = len(rows(imported, "events"))
    assert "events/s" in result.output
    assert "dead letters by reason" in result.output  # the simulator corrupts a few payloads
    assert events > 1000


def test_import_reports_header_lines_and_unknown_facilities(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PARKFLOW_PLATE_KEY", KEY)
    feed = tmp_path / "citycount.csv"
    feed.write_text(
        "carpark_id,name,last_update,occupied,capacity,state\n"
        "FAC-003,Riverside,2026-11-20 08:05:00,412,600,open\n"
        "carpark_id,name,last_update,occupied,capacity,state\n"
        "GONE-9,Old Depot,2026-11-20 08:10:00,12,50,open\n"
    )
    result = cli("import", feed, "--data-dir", tmp_path / "data")
    assert result.exit_code == 0, result.output
    assert "imported 2 payloads" in result.output  # the header lines are no payloads
    assert "dead letters" not in result.output
    assert "GONE-9 (1 events)" in result.output
    lake = tmp_path / "data" / "lake" / "raw"
    assert not list((lake / "deadletter").glob("*/*.parquet"))


def test_imported_dead_letters_are_received_now_at_their_place_in_the_feed(cli, tmp_path):
    feed = tmp_path / "citycount.csv"
    feed.write_text(
        "not a reading\n"  # opens the file: placed at its first reading
        "FAC-003,Riverside,2026-11-20 08:20:00,412,600,open\n"
        "FAC-003,Riverside,2026-11-20 08:05:00,415,600,open\n"
        "still not a reading\n"  # after the newest reading before it, not the last one
    )
    before = datetime.now(UTC)
    result = cli("import", feed, "--data-dir", tmp_path / "data")
    assert result.exit_code == 0, result.output
    lake = tmp_path / "data" / "lake" / "raw"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        letters = con.execute(
            f"select received_at, feed_time from read_parquet('{lake}/deadletter/*/*.parquet')"
        ).fetchall()
    assert len(letters) == 2
    assert all(before <= received_at <= datetime.now(UTC) for received_at, _ in letters)
    reading = datetime(2026, 11, 20, 7, 20, tzinfo=UTC)  # 08:20 in Amsterdam
    assert [feed_time for _, feed_time in letters] == [reading, reading]


def test_import_of_a_missing_file_or_an_invalid_estate_is_a_clear_error(cli, tmp_path, monkeypatch):
    missing = cli("import", tmp_path / "nope.csv")
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
    feed = tmp_path / "citycount.csv"
    feed.write_text("FAC-003,Riverside,2026-11-20 08:05:00,412,600,open\n")
    (tmp_path / "estate.yaml").write_text("facilities: []\n")
    monkeypatch.setenv("PARKFLOW_ESTATE", str(tmp_path / "estate.yaml"))
    invalid = cli("import", feed)
    assert invalid.exit_code == 1
    assert "the estate lists no facility" in invalid.output
    assert "Traceback" not in invalid.output
