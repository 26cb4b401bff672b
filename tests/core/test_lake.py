"""The lake: partitioned Parquet files that DuckDB (and so dbt) reads directly."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from parkflow.events import (
    BayStatusEvent,
    EntryEvent,
    ExitEvent,
    OccupancyCountEvent,
    PaymentEvent,
    TelemetryEvent,
)
from parkflow.lake import (
    EVENTS,
    TABLES,
    EventLines,
    LakeWriter,
    _events_by_date,
    event_row,
    read_table,
    table_dir,
)
from parkflow.parsing import DeadLetter
from parkflow.records import SessionRecord, SessionStatus
from tests.core.event_strategies import any_event

DAY = datetime(2026, 11, 16, 23, 59, 30, tzinfo=UTC)
BASE = {"facility_id": "FAC-001", "device_id": "D-1", "source": "camguard"}


def events():
    return [
        EntryEvent(
            **BASE, event_id="e1", ts=DAY, plate="AB12", plate_confidence=0.9, gate_id="G", lane="1"
        ),
        PaymentEvent(
            **BASE | {"source": "paymaster"},
            event_id="p1",
            ts=DAY + timedelta(minutes=1),
            transaction_id="t1",
            amount="7.50",
            currency="EUR",
            method="CASH",
            status="COMPLETED",
        ),
        BayStatusEvent(
            **BASE | {"source": "baynode"},
            event_id="b1",
            ts=DAY,
            zone_id="Z-01",
            bay_id="B-1",
            occupied=True,
        ),
        OccupancyCountEvent(
            **BASE | {"source": "citycount"}, event_id="c1", ts=DAY, occupied=-2, capacity=10
        ),
        TelemetryEvent(
            **BASE | {"source": "voltwatch"}, event_id="t1", ts=DAY, voltage_v=230, current_a=1.5
        ),
    ]


def test_rows_land_partitioned_by_event_date_and_read_back(tmp_path):
    files = LakeWriter(tmp_path).write("events", events())
    assert sorted(p.parent.name for p in files) == ["date=2026-11-16", "date=2026-11-17"]
    assert not list(table_dir(tmp_path, "events").rglob(".*.tmp"))
    table = read_table(tmp_path, "events")
    assert table.num_rows == 5
    rows = {r["event_id"]: r for r in table.to_pylist()}
    assert rows["p1"]["amount"] == Decimal("7.50")
    assert rows["b1"]["bay_occupied"] is True
    assert rows["c1"]["occupied"] == -2
    assert rows["c1"]["flags"] == ["NEGATIVE_COUNT"]
    assert rows["t1"]["power_w"] == 345.0


def test_every_field_of_every_event_type_lands_as_event_row_makes_it(tmp_path):
    """Every field of every event type lands as `event_row` makes it (the reference)."""
    more = [
        ExitEvent(
            **BASE,
            event_id="x1",
            ts=DAY + timedelta(hours=1),
            plate="AB12",
            plate_confidence=0.5,
            gate_id="G2",
            lane="2",
            vehicle_type="VAN",
            image_url="https://cam.example/x1.jpg",
        ),
        PaymentEvent(
            **BASE | {"source": "paymaster"},
            event_id="p2",
            ts=DAY,
            transaction_id="t2",
            plate="AB12",
            amount="0.05",
            currency="GBP",
            method="MOBILE_PAYMENT",
            status="REFUNDED",
            paid_until=DAY + timedelta(hours=2),
        ),
        OccupancyCountEvent(**BASE, event_id="c2", ts=DAY, occupied=4, zone_id="Z-02"),
        BayStatusEvent(**BASE, event_id="b2", ts=DAY, zone_id="Z-01", bay_id="B-2", occupied=False),
        TelemetryEvent(
            **BASE,
            event_id="t2",
            ts=DAY,
            voltage_v=12.1,
            current_a=0.2,
            power_w=3,
            battery_pct=55.5,
            temperature_c=-4,
            rssi_dbm=-90,
        ),
    ]
    batch = events() + more
    LakeWriter(tmp_path).write("events", batch)
    landed = read_table(tmp_path, "events").sort_by("event_id")
    reference = pa.Table.from_pylist([event_row(e) for e in batch], schema=EVENTS)
    assert landed.to_pylist() == reference.sort_by("event_id").to_pylist()


@settings(max_examples=300, deadline=None)
@given(st.lists(any_event, min_size=1, max_size=12, unique_by=lambda event: event.event_id))
def test_events_read_from_their_json_are_the_rows_of_event_row(batch):
    """Arrow's JSON reader fills the table: every value must come out as `event_row` has it
    (floats to the last bit, decimals, microseconds, empty and missing fields)."""
    lines = EventLines()
    for event in batch:
        lines.add(event)
    built = _events_by_date(lines.joined())
    for day, table in built.items():
        expected = [event_row(e) for e in batch if e.ts.date().isoformat() == day]
        reference = pa.Table.from_pylist(expected, schema=EVENTS).sort_by("event_id")
        assert table.schema == EVENTS
        assert table.sort_by("event_id").to_pylist() == reference.to_pylist()
    assert sum(t.num_rows for t in built.values()) == len(batch)


def test_duckdb_reads_the_lake_with_hive_partitions(tmp_path):
    writer = LakeWriter(tmp_path)
    writer.write("events", events())
    writer.write("events", events()[:1])  # at-least-once: a batch written twice
    pattern = str(table_dir(tmp_path, "events") / "*" / "*.parquet")
    con = duckdb.connect()
    rows = con.execute(
        "select date, count(*), count(distinct event_id)"
        " from read_parquet(?, hive_partitioning=true) group by date order by date",
        [pattern],
    ).fetchall()
    assert [(str(d), n, u) for d, n, u in rows] == [("2026-11-16", 5, 4), ("2026-11-17", 1, 1)]


def test_every_table_takes_its_records(tmp_path):
    writer = LakeWriter(tmp_path)
    session = SessionRecord(
        session_id="e1",
        facility_id="FAC-001",
        plate="AB12",
        status=SessionStatus.OPEN,
        entry_event_id="e1",
        entry_ts=DAY,
        entry_device_id="CAM",
        updated_at=DAY,
    )
    writer.write("sessions", [session])
    writer.write("deadletter", [DeadLetter.of("camguard", b"{", "bad JSON", received_at=DAY)])
    assert read_table(tmp_path, "sessions").to_pylist()[0]["status"] == "OPEN"
    assert read_table(tmp_path, "deadletter").num_rows == 1
    assert read_table(tmp_path, "alerts").num_rows == 0
    assert set(TABLES) == {"events", "sessions", "anomalies", "alerts", "deadletter"}
