"""Building a lake without Kafka: the simulator, the real plugins and the streaming rules, in batch.

For dbt development, tests and dashboard work, `build_lake` writes what the streaming
worker would have written for a simulated period, in one process and in seconds:

1. the simulator's world and transport (with their default, seeded faults) give vendor payloads;
2. every payload is parsed by its real plugin (`parse_payload`): rejects become dead letters;
3. plates are pseudonymised (`PlateHasher`), and each event is stamped as ingested when
   the transport delivered it;
4. the rule classes the streaming agents use (session matching, device monitors, occupancy
   tracker) run over the events in event-time order;
5. events, sessions, anomalies, alerts and dead letters go to the lake with `LakeWriter`,
   and the sample estate (the facilities simulated) to `lake/estate/`.

Like the worker, it lands every parsed event as delivered (re-sent payloads land twice)
and every version of a session or an alert: readers de-duplicate by id.

`append_to_lake` extends such a lake by some hours: it re-simulates the whole period
(the world is deterministic for a seed and a start) so that vehicles inside at the old end
leave in the new hours, and writes only the rows the lake does not hold yet.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from parkflow.estate import Facility, capacities, max_stays, sample_estate
from parkflow.estate.tables import write_estate_tables
from parkflow.events import CanonicalEvent, TelemetryEvent, make_event_id
from parkflow.lake import TABLES, LakeWriter, raw_dir, table_dir, table_files
from parkflow.parsing import DeadLetter, FeedClock, parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from parkflow.records import AlertRecord, AnomalyRecord, SessionRecord
from parkflow.registry import PluginRegistry
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.config import FaultRates, SimulationConfig
from parkflow.simulator.transport import Payload, Transport
from parkflow.simulator.world import simulate_world

# The rule classes are plain Python (no Faust): the streaming agents are thin shells around them.
from streaming.rules.dedupe import RecentIds
from streaming.rules.devices import DeviceMonitor
from streaming.rules.occupancy import OccupancyTracker
from streaming.rules.sessions import InsideCorrection, SessionMatcher, match_stream

#: Battery bay sensors send an hourly heartbeat: silent for 3 h means offline (as the
#: devices agent, `streaming/agents/devices.py`, decides; powered devices: 2 min).
SENSOR_SOURCES = frozenset({"baynode"})
SENSOR_OFFLINE_AFTER = timedelta(hours=3)
#: How often (in event time) the device monitors look for silent devices.
OFFLINE_CHECK_EVERY = timedelta(seconds=30)
#: Where a batch-built lake remembers how it was made (outside `raw/`, which dbt reads).
MANIFEST_NAME = "batch.json"


class LakeManifest(BaseModel):
    """How a batch lake was built: enough to extend it with `append_to_lake`."""

    model_config = ConfigDict(frozen=True)

    seed: int
    start: datetime
    end: datetime
    facilities: int
    faults: FaultRates
    plate_key_id: str | None  # identifies the plate key without revealing it; None: clear plates

    @property
    def config(self) -> SimulationConfig:
        """The simulation of the whole period."""
        days = (self.end - self.start) / timedelta(days=1)
        return SimulationConfig(
            start=self.start,
            days=days,
            facilities=self.facilities,
            seed=self.seed,
            faults=self.faults,
        )


@dataclass
class Delivered:
    """What the normalize step makes of the payloads: canonical events and dead letters."""

    events: list[CanonicalEvent] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    payloads: int = 0


@dataclass
class Derived:
    """What the sessions, devices and occupancy rules make of the events."""

    sessions: list[SessionRecord] = field(default_factory=list)
    anomalies: list[AnomalyRecord] = field(default_factory=list)
    alerts: list[AlertRecord] = field(default_factory=list)
    monitors: dict[str, DeviceMonitor] = field(default_factory=dict)
    horizon: datetime | None = None  # the newest event time: "now" for the final checks


@dataclass
class BuildReport:
    """What a build or an append wrote."""

    manifest: LakeManifest
    payloads: int
    rows: dict[str, int]
    files: int
    seconds: float = 0.0


# --- the pipeline, step by step ---------------------------------------------------------------


def plate_key_id(key: bytes) -> str:
    """A short fingerprint of the plate key (an HMAC of a constant): tells keys apart safely."""
    return hmac.new(key, b"parkflow plate key id", hashlib.sha256).hexdigest()[:16]


def simulate_payloads(config: SimulationConfig, registry: PluginRegistry) -> Iterator[Payload]:
    """The simulator's vendor payloads for `config`, with transit faults, in delivery order."""
    facilities = first_facilities(config.facilities)
    world = simulate_world(config, facilities, Counter())
    return Transport(registry, config.faults, config.seed).deliver(world)


def deliver(
    payloads: Iterable[Payload], registry: PluginRegistry, hasher: PlateHasher | None
) -> Delivered:
    """Parse every payload with its plugin, pseudonymise plates, dead-letter the rejects (at
    their place in the feed: the newest event of their vendor parsed before them, as the
    worker dates them)."""
    delivered = Delivered()
    clock = FeedClock()
    for payload in payloads:
        delivered.payloads += 1
        result = parse_payload(registry.get(payload.vendor), payload.data)
        if not result.ok:
            reason = result.error or "rejected"
            delivered.dead_letters.append(
                dead_letter(
                    payload,
                    reason,
                    feed_time=clock.feed_time(payload.vendor),
                    mask=hasher is not None,
                )
            )
            continue
        clock.saw(payload.vendor, result.events)
        events = pseudonymise_plates(result.events, hasher) if hasher else result.events
        delivered.events += [
            event.model_copy(update={"ingested_at": payload.deliver_at}) for event in events
        ]
    return delivered


def dead_letter(
    payload: Payload,
    reason: str,
    *,
    received_at: datetime | None = None,
    feed_time: datetime | None = None,
    mask: bool = False,
) -> DeadLetter:
    """The dead letter of a rejected payload, received at `received_at` (default: when the
    transport delivered it), at `feed_time` in its feed.

    The worker identifies a dead letter by its Kafka position, so a corrupted payload sent
    twice is two dead letters. Without Kafka, the delivery time and device key stand in for
    the position (the bytes alone would merge different payloads cut to the same prefix).
    `mask` keeps only the payload's shape, as the worker does when plates are hashed.
    """
    letter = DeadLetter.of(
        payload.vendor,
        payload.data,
        reason,
        received_at=received_at or payload.deliver_at,
        feed_time=feed_time,
        mask=mask,
    )
    identity = (payload.deliver_at.isoformat(), payload.key.hex(), letter.dead_letter_id)
    return letter.model_copy(
        update={"dead_letter_id": make_event_id(payload.vendor, "deadletter", *identity)}
    )


def device_monitors() -> dict[str, DeviceMonitor]:
    """One monitor for powered devices (offline after 2 min), one for battery bay sensors."""
    return {
        "powered": DeviceMonitor({}, {}),
        "sensor": DeviceMonitor(
            {}, {}, offline_after=SENSOR_OFFLINE_AFTER, stale_after=SENSOR_OFFLINE_AFTER
        ),
    }


def monitor_kind(event: TelemetryEvent) -> str:
    """Which device monitor watches the device that sent `event`."""
    return "sensor" if event.source in SENSOR_SOURCES else "powered"


def device_alerts(
    ordered: list[CanonicalEvent], monitors: dict[str, DeviceMonitor]
) -> list[AlertRecord]:
    """Telemetry alerts in event-time order, with offline checks every `OFFLINE_CHECK_EVERY`.

    A check at time T runs once every event up to T is applied (the worker's timers also
    lag behind the newest event), and a last one at the newest event time.
    """
    alerts: list[AlertRecord] = []
    next_check: datetime | None = None
    for event in ordered:
        if next_check is None:
            next_check = event.ts + OFFLINE_CHECK_EVERY
        if event.ts > next_check:
            steps = (event.ts - next_check) // OFFLINE_CHECK_EVERY
            due = next_check + steps * OFFLINE_CHECK_EVERY  # the last check time before event
            if due == event.ts:
                due -= OFFLINE_CHECK_EVERY
            for monitor in monitors.values():
                alerts += monitor.check_offline(due)
            next_check = due + OFFLINE_CHECK_EVERY
        if isinstance(event, TelemetryEvent):
            alerts += monitors[monitor_kind(event)].on_telemetry(event)
    if ordered:
        for monitor in monitors.values():
            alerts += monitor.check_offline(ordered[-1].ts)
    return alerts


def capacity_alerts(
    ordered: list[CanonicalEvent],
    facilities: Iterable[Facility],
    inside: Iterable[InsideCorrection] = (),
) -> list[AlertRecord]:
    """NEAR_CAPACITY / FULL alerts from entries, exits, bays and counts (re-sent ids once),
    with the session matcher's corrections of the vehicles inside at their times."""
    tracker = OccupancyTracker({}, {}, {}, capacities(facilities))
    recent = RecentIds()
    alerts: list[AlertRecord] = []
    corrections = sorted(inside, key=lambda c: c.ts)
    for item in heapq.merge(ordered, corrections, key=lambda item: item.ts):
        if isinstance(item, InsideCorrection):
            if recent.first_time(item.correction_id, item.ts):
                alerts += tracker.on_inside(item.facility_id, item.delta, item.ts)
        elif recent.first_time(item.event_id, item.ts):
            alerts += tracker.on_event(item)
    return alerts


def derive(events: list[CanonicalEvent], facilities: Iterable[Facility]) -> Derived:
    """Run the sessions, devices and occupancy rules over `events` in event-time order."""
    ordered = sorted(events, key=lambda event: event.ts)  # stable: ties keep delivery order
    facilities = tuple(facilities)
    matched = match_stream(ordered, SessionMatcher({}, max_stay=max_stays(facilities)))
    monitors = device_monitors()
    alerts = device_alerts(ordered, monitors)
    alerts += capacity_alerts(ordered, facilities, matched.inside)
    return Derived(
        sessions=matched.sessions,
        anomalies=matched.anomalies,
        alerts=alerts,
        monitors=monitors,
        horizon=ordered[-1].ts if ordered else None,
    )


# --- the lake ---------------------------------------------------------------------------------


def manifest_path(data_dir: Path) -> Path:
    """`<data dir>/lake/batch.json`."""
    return data_dir / "lake" / MANIFEST_NAME


def read_manifest(data_dir: Path) -> LakeManifest:
    """The manifest of a batch-built lake (FileNotFoundError when there is none)."""
    return LakeManifest.model_validate_json(manifest_path(data_dir).read_text())


def lake_has_files(data_dir: Path) -> bool:
    """True when any lake table holds a Parquet file."""
    return any(raw_dir(data_dir).glob("*/date=*/*.parquet"))


def clear_lake(data_dir: Path) -> None:
    """Delete the lake's tables and manifest (the warehouse and everything else stay)."""
    shutil.rmtree(raw_dir(data_dir), ignore_errors=True)
    manifest_path(data_dir).unlink(missing_ok=True)


#: The columns that identify a row of each table (the same row written twice is skipped on append).
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "events": ("event_id",),
    "sessions": ("session_id", "version"),
    "anomalies": ("anomaly_id",),
    "alerts": ("alert_id", "version"),
    "deadletter": ("dead_letter_id",),
}


def existing_keys(data_dir: Path, table: str) -> set[tuple[Any, ...]]:
    """The row keys (`ROW_KEYS`) a lake table already holds."""
    columns = list(ROW_KEYS[table])
    files = table_files(data_dir, table)
    keys: set[tuple[Any, ...]] = set()
    for path in files:
        rows = pq.read_table(path, columns=columns).to_pydict()
        keys.update(zip(*(rows[c] for c in columns), strict=True))
    return keys


def _key(record: Any, columns: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(record, column) for column in columns)


def write_tables(
    data_dir: Path, tables: dict[str, list[Any]], *, skip: dict[str, set] | None = None
) -> tuple[dict[str, int], int]:
    """Write each table's records (minus those whose key is in `skip`); (rows, files) written."""
    writer = LakeWriter(data_dir)
    rows: dict[str, int] = {}
    files = 0
    for table in TABLES:
        table_dir(data_dir, table).mkdir(parents=True, exist_ok=True)  # empty tables too
        records = tables.get(table, [])
        known = (skip or {}).get(table)
        if known:
            records = [r for r in records if _key(r, ROW_KEYS[table]) not in known]
        rows[table] = len(records)
        files += len(writer.write(table, records)) if records else 0
    return rows, files


def _simulate_and_derive(
    manifest: LakeManifest, registry: PluginRegistry, hasher: PlateHasher | None
) -> tuple[Delivered, Derived]:
    config = manifest.config
    delivered = deliver(simulate_payloads(config, registry), registry, hasher)
    derived = derive(delivered.events, first_facilities(config.facilities))
    return delivered, derived


def _tables(delivered: Delivered, derived: Derived) -> dict[str, list[Any]]:
    return {
        "events": delivered.events,
        "sessions": derived.sessions,
        "anomalies": derived.anomalies,
        "alerts": derived.alerts,
        "deadletter": delivered.dead_letters,
    }


def build_lake(
    data_dir: Path,
    config: SimulationConfig,
    *,
    plate_key: bytes | None,
    registry: PluginRegistry | None = None,
) -> BuildReport:
    """Simulate `config` and write every lake table under `data_dir` (which must hold no lake).

    `plate_key` None keeps plates in clear (only where that is allowed).
    """
    if lake_has_files(data_dir):
        raise FileExistsError(f"{raw_dir(data_dir)} already holds a lake")
    registry = registry or PluginRegistry.discover()
    manifest = LakeManifest(
        seed=config.seed,
        start=config.start,
        end=config.end,
        facilities=config.facilities,
        faults=config.faults,
        plate_key_id=plate_key_id(plate_key) if plate_key else None,
    )
    hasher = PlateHasher(plate_key) if plate_key else None
    delivered, derived = _simulate_and_derive(manifest, registry, hasher)
    rows, files = write_tables(data_dir, _tables(delivered, derived))
    write_estate_tables(sample_estate(), data_dir)  # the estate the simulator ran
    _write_manifest(data_dir, manifest)
    return BuildReport(manifest, delivered.payloads, rows, files)


def append_to_lake(
    data_dir: Path,
    hours: float,
    *,
    plate_key: bytes | None,
    registry: PluginRegistry | None = None,
) -> BuildReport:
    """Extend a batch-built lake by `hours`: the rows of the new hours (and the sessions and
    alerts they change), exactly as one build of the longer period would have them."""
    if hours <= 0:
        raise ValueError("hours must be positive")
    old = read_manifest(data_dir)
    key_id = plate_key_id(plate_key) if plate_key else None
    if key_id != old.plate_key_id:
        raise ValueError("the plate key differs from the one this lake was built with")
    manifest = old.model_copy(update={"end": old.end + timedelta(hours=hours)})
    registry = registry or PluginRegistry.discover()
    hasher = PlateHasher(plate_key) if plate_key else None
    delivered, derived = _simulate_and_derive(manifest, registry, hasher)
    skip = {table: existing_keys(data_dir, table) for table in TABLES}
    rows, files = write_tables(data_dir, _tables(delivered, derived), skip=skip)
    write_estate_tables(sample_estate(), data_dir)
    _write_manifest(data_dir, manifest)
    return BuildReport(manifest, delivered.payloads, rows, files)


def _write_manifest(data_dir: Path, manifest: LakeManifest) -> None:
    path = manifest_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(manifest.model_dump_json(indent=2))
    temporary.replace(path)
