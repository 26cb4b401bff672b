"""The streaming worker end to end: simulated vendor traffic through Kafka into the lake."""

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from parkflow.events import event_from_dict, make_event_id
from parkflow.lake import read_table
from parkflow.records import SessionRecord
from parkflow.registry import PluginRegistry
from parkflow.settings import Settings
from parkflow.simulator import FaultRates, KafkaSink, SimulationConfig, run_simulation
from streaming.rules.sessions import latest_versions, match_stream
from tests.lake_check import lake_event_dicts, lake_sessions, session_outcomes
from tests.waiting import wait_for
from tests.worker_process import INGEST_TOKEN

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def simulated(worker):
    """A quarter day at three facilities, sent through Kafka: 5% of payloads corrupted,
    misreads and missed exits at field rates (no late delivery: arrival order = time order)."""
    faults = FaultRates.none().model_copy(
        update={"garbage": 0.05, "misread": 0.03, "missing_exit": 0.05, "out_of_range": 0.02}
    )
    config = SimulationConfig(
        start=datetime(2026, 11, 16, 5, tzinfo=UTC), days=0.3, facilities=3, seed=12, faults=faults
    )
    sink = KafkaSink(worker.bootstrap, Settings().partitions, stamp_delivery=True)
    return asyncio.run(run_simulation(config, sink, PluginRegistry.discover()))


def test_health_reports_the_agents(worker):
    health = worker.get("/health")
    assert health["status"] == "ok"
    agents = {
        "streaming.agents.normalize.normalize",
        "streaming.agents.events.events",
        "streaming.agents.occupancy.occupancy",
        "streaming.agents.sinks.deadletter_sink",
    }
    assert agents <= set(health["agents"])


def test_every_event_and_dead_letter_lands_in_the_lake(worker, simulated):
    expected_events = sum(v.events for v in simulated.vendors.values())
    expected_dead = sum(v.corrupted for v in simulated.vendors.values())

    def landed() -> bool:
        events = read_table(worker.data_dir, "events").num_rows
        return events >= expected_events and (
            read_table(worker.data_dir, "deadletter").num_rows >= expected_dead
        )

    assert wait_for(landed)
    events = read_table(worker.data_dir, "events").to_pylist()
    dead = read_table(worker.data_dir, "deadletter").to_pylist()
    assert len({e["event_id"] for e in events}) == expected_events
    assert len({d["dead_letter_id"] for d in dead}) == expected_dead
    assert all(d["reason"] and d["topic"].startswith("raw.") for d in dead)
    # placed in the feed: after the newest event the worker had parsed from the same vendor
    # (none for those before a vendor's first event)
    placed = [d for d in dead if d["feed_time"] is not None]
    assert len(placed) > 0.9 * len(dead)
    assert all(simulated.start <= d["feed_time"] <= d["received_at"] for d in placed)
    by_vendor = {name: 0 for name in simulated.vendors}
    for event in events:
        by_vendor[event["source"]] += 1
    assert by_vendor == {name: v.events for name, v in simulated.vendors.items()}


def test_plates_are_pseudonymised_before_the_lake(worker, simulated):
    plates = {e["plate"] for e in read_table(worker.data_dir, "events").to_pylist() if e["plate"]}
    assert plates
    assert all(len(p) == 20 and all(c in "0123456789ABCDEF" for c in p) for p in plates)


def test_sessions_in_the_lake_are_those_of_the_plain_matcher(worker, simulated):
    """The agent is a thin shell: its sessions and anomalies equal a batch replay's."""
    expected_events = sum(v.events for v in simulated.vendors.values())
    assert wait_for(lambda: read_table(worker.data_dir, "events").num_rows >= expected_events)
    events = sorted(
        (event_from_dict(row) for row in lake_event_dicts(worker.data_dir)),
        key=lambda e: (e.ts, e.event_id),
    )
    replay = match_stream(events)
    expected = session_outcomes(latest_versions(replay.sessions).values())
    expected_anomalies = {a.anomaly_id for a in replay.anomalies}
    assert expected and expected_anomalies

    def lake_sessions() -> dict:
        rows = [
            SessionRecord.model_validate(r)
            for r in read_table(worker.data_dir, "sessions").to_pylist()
        ]
        return session_outcomes(latest_versions(rows).values())

    assert wait_for(lambda: lake_sessions() == expected, timeout=60)

    def lake_anomalies() -> dict:
        return {r["anomaly_id"]: r for r in read_table(worker.data_dir, "anomalies").to_pylist()}

    assert wait_for(lambda: expected_anomalies <= set(lake_anomalies()))
    # beyond the replay's: only exits of the last minutes, expired once the stream went idle
    end = max(e.ts for e in events)
    extra = [a for i, a in lake_anomalies().items() if i not in expected_anomalies]
    assert all(a["ts"] > end - timedelta(minutes=10) for a in extra)


def test_events_land_with_their_simulated_delivery_time_as_received_at(worker, simulated):
    expected_events = sum(v.events for v in simulated.vendors.values())
    assert wait_for(lambda: read_table(worker.data_dir, "events").num_rows >= expected_events)
    events = read_table(worker.data_dir, "events").to_pylist()
    # delivered during the simulated morning of 2026-11-16, landed now, and never before
    # their event time (no late fault in this traffic)
    assert all(e["ts"] <= e["received_at"] < datetime(2026, 11, 17, tzinfo=UTC) for e in events)
    assert all(e["received_at"] < e["ingested_at"] for e in events)


def test_live_occupancy_agrees_with_the_lake(worker, simulated):
    """Vehicles inside = the OPEN sessions (entries - exits, corrected where an exit or an
    entry was missed); zones = occupied bays; counted = the last reading."""
    expected_events = sum(v.events for v in simulated.vendors.values())
    assert wait_for(lambda: read_table(worker.data_dir, "events").num_rows >= expected_events)
    events = {e["event_id"]: e for e in lake_event_dicts(worker.data_dir)}.values()

    def open_sessions() -> int:
        sessions = lake_sessions(worker.data_dir).values()
        return sum(1 for s in sessions if s.status == "OPEN" and s.facility_id == "FAC-001")

    bays: dict[tuple[str, str], tuple] = {}
    counts = []
    for e in sorted(events, key=lambda e: e["ts"]):
        if e["event_type"] == "bay_status":
            bays[(e["zone_id"], e["bay_id"])] = e["occupied"]
        elif e["event_type"] == "occupancy_count":
            counts.append(e["occupied"])

    def live() -> dict:
        rows = worker.get("/live/occupancy")["occupancy"]
        return {(r["facility_id"], r["zone_id"]): r["occupied"] for r in rows}

    def expected() -> dict:
        return {**counted, ("FAC-001", None): open_sessions()}

    counted = {
        ("FAC-003", None): counts[-1],
        ("FAC-002", "Z-01"): sum(v for (z, _), v in bays.items() if z == "Z-01"),
        ("FAC-002", "Z-02"): sum(v for (z, _), v in bays.items() if z == "Z-02"),
    }
    assert wait_for(lambda: {k: live().get(k) for k in expected()} == expected())
    assert open_sessions() > 0
    # read to the end: nothing behind, and the live clock is the newest event counted
    answer = worker.get("/live/occupancy")
    assert answer["backlog"] == {"payloads": 0, "batches": 0, "catching_up": False}
    counted_types = {"entry", "exit", "bay_status", "occupancy_count"}
    newest = max(e["ts"] for e in events if e["event_type"] in counted_types)
    assert datetime.fromisoformat(answer["event_time"]) >= newest
    assert datetime.fromisoformat(worker.get("/live/alerts")["event_time"]) >= newest


def test_device_alerts_land_in_the_lake_and_show_live(worker, simulated):
    assert wait_for(lambda: read_table(worker.data_dir, "alerts").num_rows > 0)
    alerts = read_table(worker.data_dir, "alerts").to_pylist()
    kinds = {a["alert_type"] for a in alerts}
    assert {"HIGH_POWER", "INVALID_DATA"} & kinds
    live = worker.get("/live/alerts")["alerts"]
    assert all(a["state"] == "OPEN" for a in live)
    devices = worker.get("/live/devices")["devices"]
    assert devices and all(0 <= d["health_score"] <= 100 for d in devices)


def test_metrics_count_what_flowed(worker, simulated):
    status, text = worker.request("GET", "/metrics")
    assert status == 200
    assert 'parkflow_payloads_total{outcome="dead_letter",vendor=' in text
    assert 'parkflow_sink_rows_total{table="events"}' in text
    assert "parkflow_consumer_lag{" in text


CAMERA_READ = (
    b'{"camera":{"id":"FAC-001-CAM-IN-1","site":"FAC-001","gate":"G-IN-1","lane":1},'
    b'"read":{"id":"http-1","direction":"in","captured_at":"2026-11-20T08:00:00Z",'
    b'"plate":{"text":"HT-101-P","confidence":90}}}'
)


def test_ingest_needs_the_token(worker):
    assert worker.request("POST", "/ingest/camguard", CAMERA_READ)[0] == 401
    assert worker.request("POST", "/ingest/camguard", CAMERA_READ, token="wrong")[0] == 401


def test_ingest_of_an_unknown_vendor_lists_the_known_ones(worker):
    status, body = worker.request("POST", "/ingest/acme", CAMERA_READ, token=INGEST_TOKEN)
    assert status == 404
    assert "camguard" in body["vendors"]


def test_ingest_accepts_a_good_payload_and_explains_a_bad_one(worker):
    assert worker.request("POST", "/ingest/camguard", CAMERA_READ, token=INGEST_TOKEN) == (
        202,
        {"accepted": 1},
    )
    status, body = worker.request("POST", "/ingest/camguard", b"{oops", token=INGEST_TOKEN)
    assert status == 422
    assert "Invalid JSON" in body["error"]
    assert wait_for(
        lambda: any(
            e["event_id"] == make_event_id("camguard", "http-1")
            for e in read_table(worker.data_dir, "events").to_pylist()
        )
    )


def test_bulk_ingest_accepts_the_good_and_reports_the_bad_by_index(worker):
    good = orjson.loads(CAMERA_READ.replace(b"http-1", b"http-2"))
    body = orjson.dumps([good, "not json at all", good | {"read": {}}])
    status, answer = worker.request("POST", "/ingest/camguard/bulk", body, token=INGEST_TOKEN)
    assert status == 207
    assert answer["accepted"] == 1
    assert [r["index"] for r in answer["rejected"]] == [1, 2]
