"""The batch lake builder: simulator, real plugins and the streaming rules, without Kafka."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from parkflow.batch import (
    OFFLINE_CHECK_EVERY,
    append_to_lake,
    build_lake,
    device_alerts,
    device_monitors,
    read_manifest,
)
from parkflow.events import TelemetryEvent
from parkflow.lake import TABLES, read_table, table_dir
from parkflow.parsing import parse_payload, pseudonymise_plates
from parkflow.plates import HASH_LENGTH, PlateHasher
from parkflow.registry import PluginRegistry
from parkflow.simulator import SimulationConfig
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Transport
from parkflow.simulator.world import simulate_world
from streaming.rules.sessions import latest_versions, match_stream

START = datetime(2026, 11, 2, tzinfo=UTC)
KEY = b"batch-test-key-" * 2
REGISTRY = PluginRegistry.discover()
CONFIG = SimulationConfig(start=START, days=0.5, facilities=3, seed=21)
HEX = re.compile(rf"^[0-9A-F]{{{HASH_LENGTH}}}$")


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """A half-day lake of three facilities (one of each kind)."""
    data_dir = tmp_path_factory.mktemp("lake")
    report = build_lake(data_dir, CONFIG, plate_key=KEY, registry=REGISTRY)
    return data_dir, report


def parsed_events(hasher: PlateHasher | None):
    """Parse the same simulation independently of the builder: the normalize step's output."""
    events = []
    facilities = first_facilities(CONFIG.facilities)
    transport = Transport(REGISTRY, CONFIG.faults, CONFIG.seed)
    for payload in transport.deliver(simulate_world(CONFIG, facilities, Counter())):
        result = parse_payload(REGISTRY.get(payload.vendor), payload.data)
        events += pseudonymise_plates(result.events, hasher) if hasher else result.events
    return events


def rows(data_dir, table):
    return read_table(data_dir, table).to_pylist()


def test_every_table_is_written_with_the_counts_reported(lake):
    data_dir, report = lake
    for table in TABLES:
        assert table_dir(data_dir, table).is_dir()
        assert len(rows(data_dir, table)) == report.rows[table]
    assert all(report.rows[t] > 0 for t in ("events", "sessions", "anomalies", "alerts"))
    assert report.rows["deadletter"] > 0  # the default faults corrupt some payloads
    assert read_manifest(data_dir).end == CONFIG.end


def test_sessions_are_what_the_matcher_makes_of_the_events_in_event_time_order(lake):
    data_dir, _ = lake
    events = sorted(parsed_events(PlateHasher(KEY)), key=lambda e: e.ts)
    expected = latest_versions(match_stream(events).sessions)
    landed = {}
    for row in rows(data_dir, "sessions"):
        if row["session_id"] not in landed or row["version"] > landed[row["session_id"]]["version"]:
            landed[row["session_id"]] = row
    assert landed.keys() == expected.keys()
    for session_id, session in expected.items():
        row = landed[session_id]
        assert (row["status"], row["version"], row["exit_ts"], row["amount_paid"]) == (
            session.status.value,
            session.version,
            session.exit_ts,
            session.amount_paid,
        )


def test_every_parsed_event_lands_as_delivered_duplicates_included(lake):
    data_dir, _ = lake
    events = parsed_events(PlateHasher(KEY))
    landed = rows(data_dir, "events")
    assert sorted(r["event_id"] for r in landed) == sorted(e.event_id for e in events)
    assert len({r["event_id"] for r in landed}) < len(landed)  # re-sent payloads land twice
    assert all(r["ingested_at"] >= r["ts"] for r in landed)  # stamped when delivered


def test_each_rejected_payload_is_its_own_dead_letter(lake):
    data_dir, _ = lake
    letters = rows(data_dir, "deadletter")
    assert len({d["dead_letter_id"] for d in letters}) == len(letters)
    assert {d["source"] for d in letters} <= set(REGISTRY.names())
    assert all(d["payload_size"] > 0 and d["reason"] for d in letters)


def test_dead_letters_are_placed_after_the_events_their_vendor_sent_before(lake):
    data_dir, _ = lake
    newest, expected = {}, Counter()
    facilities = first_facilities(CONFIG.facilities)
    transport = Transport(REGISTRY, CONFIG.faults, CONFIG.seed)
    for payload in transport.deliver(simulate_world(CONFIG, facilities, Counter())):
        result = parse_payload(REGISTRY.get(payload.vendor), payload.data)
        if not result.ok:
            expected[payload.vendor, newest.get(payload.vendor), payload.deliver_at] += 1
        elif result.events:
            times = [e.ts for e in result.events]
            newest[payload.vendor] = max(newest.get(payload.vendor, times[0]), *times)
    landed = Counter(
        (d["source"], d["feed_time"], d["received_at"]) for d in rows(data_dir, "deadletter")
    )
    assert landed == expected
    assert all(feed_time is not None for _, feed_time, _ in expected)


def test_plates_are_keyed_hashes_in_every_lake_table(lake):
    data_dir, _ = lake
    clear = {e.plate for e in parsed_events(None) if getattr(e, "plate", None)}
    assert len(clear) > 100
    for table in ("events", "sessions", "anomalies"):
        plates = {r["plate"] for r in rows(data_dir, table) if r["plate"] is not None}
        assert plates, table
        assert all(HEX.match(p) for p in plates), table
        assert not plates & clear, table


def test_device_and_capacity_alerts_are_landed(lake):
    data_dir, _ = lake
    alerts = rows(data_dir, "alerts")
    types = {a["alert_type"] for a in alerts}
    assert {"OFFLINE", "INVALID_DATA"} <= types or {"HIGH_POWER"} <= types
    assert {"NEAR_CAPACITY", "FULL"} & types
    for alert in alerts:
        if alert["resolved_at"] is not None:
            assert alert["resolved_at"] >= alert["opened_at"]


def test_offline_checks_run_after_the_readings_of_their_instant():
    """A reading exactly 2 minutes after the previous one is not a silence."""
    t0 = START
    readings = [
        TelemetryEvent(
            event_id=f"r{i}",
            facility_id="FAC-001",
            device_id="FAC-001-GC-IN-1",
            ts=t0 + timedelta(minutes=2 * i),
            source="voltwatch",
            voltage_v=230,
            current_a=1,
        )
        for i in range(5)
    ]
    assert OFFLINE_CHECK_EVERY < timedelta(minutes=2)
    assert device_alerts(readings, device_monitors()) == []
    back = readings[-1].model_copy(update={"event_id": "r9", "ts": t0 + timedelta(minutes=20)})
    late = [*readings, back]
    alerts = device_alerts(late, device_monitors())
    assert [(a.alert_type.value, a.state.value) for a in alerts] == [
        ("OFFLINE", "OPEN"),
        ("OFFLINE", "RESOLVED"),
    ]
    assert alerts[0].opened_at == t0 + timedelta(minutes=10)


def test_bay_sensors_have_hours_of_silence_before_they_are_offline():
    sensor = TelemetryEvent(
        event_id="s1",
        facility_id="FAC-002",
        device_id="0011AABBCCDDEEFF",
        ts=START,
        source="baynode",
        voltage_v=3.5,
        current_a=0.001,
    )
    powered = sensor.model_copy(update={"event_id": "p1", "device_id": "GC", "source": "voltwatch"})
    later = powered.model_copy(update={"event_id": "p2", "ts": START + timedelta(hours=2)})
    alerts = device_alerts([sensor, powered, later], device_monitors())
    assert {a.subject_id for a in alerts} == {"GC"}


def test_a_second_build_into_the_same_lake_is_refused(lake):
    data_dir, _ = lake
    with pytest.raises(FileExistsError):
        build_lake(data_dir, CONFIG, plate_key=KEY, registry=REGISTRY)


def test_appending_hours_gives_the_lake_a_longer_build_would_give(tmp_path):
    config = SimulationConfig(start=START, days=0.25, facilities=3, seed=5)
    appended, direct = tmp_path / "appended", tmp_path / "direct"
    build_lake(appended, config, plate_key=KEY, registry=REGISTRY)
    report = append_to_lake(appended, 2, plate_key=KEY, registry=REGISTRY)
    assert report.rows["events"] > 0
    assert report.rows["sessions"] > 0
    longer = config.model_copy(update={"days": 0.25 + 2 / 24})
    build_lake(direct, longer, plate_key=KEY, registry=REGISTRY)

    def newest(data_dir, table, key):
        kept = {}
        for row in rows(data_dir, table):
            if row[key] not in kept or row.get("version", 0) > kept[row[key]].get("version", 0):
                kept[row[key]] = row
        return kept

    keys = {"events": "event_id", "sessions": "session_id", "anomalies": "anomaly_id",
            "alerts": "alert_id", "deadletter": "dead_letter_id"}  # fmt: skip
    for table, key in keys.items():
        ours, theirs = newest(appended, table, key), newest(direct, table, key)
        assert ours.keys() == theirs.keys(), table
        if table in ("sessions", "alerts"):
            assert {k: v["version"] for k, v in ours.items()} == {
                k: v["version"] for k, v in theirs.items()
            }, table
    assert len(rows(appended, "events")) == len(rows(direct, "events"))


def test_append_needs_the_same_plate_key(tmp_path):
    build_lake(
        tmp_path, SimulationConfig(start=START, days=0.05, facilities=1, seed=1), plate_key=KEY
    )
    with pytest.raises(ValueError, match="plate key"):
        append_to_lake(tmp_path, 1, plate_key=b"another-key-of-16+", registry=REGISTRY)
