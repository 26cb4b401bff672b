"""Simulated traffic through a real worker, then the batch side on its lake: dbt builds the
warehouse and every mart is published, as Dagster does (`orchestration.publish`).

`Published` remembers what went in (the payloads and the clear plates of the simulated
vehicles), so tests can look for it in everything that came out.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.publish import publish_table
from parkflow.estate import sample_estate
from parkflow.estate.tables import write_estate_tables
from parkflow.lake import read_table
from parkflow.parsing import parse_payload
from parkflow.plates import normalise_plate
from parkflow.registry import PluginRegistry
from parkflow.settings import Settings
from parkflow.simulator import FaultRates, KafkaSink, SimulationConfig, run_simulation
from parkflow.simulator.catalog import first_facilities
from parkflow.simulator.transport import Payload
from parkflow.simulator.world import simulate_world
from tests.waiting import wait_for
from tests.worker_process import WorkerProcess

ROOT = Path(__file__).resolve().parents[3]
DBT = Path(sys.executable).with_name("dbt")
#: Early morning hours at a garage, an on-street district and a counted car park, with
#: plates misread and payloads corrupted in transit (so dead letters hold plate fragments).
CONFIG = SimulationConfig(
    start=datetime(2026, 11, 16, 6, tzinfo=UTC),
    days=0.15,
    facilities=3,
    seed=23,
    faults=FaultRates.none().model_copy(update={"garbage": 0.05, "misread": 0.03}),
)


@dataclass(frozen=True)
class Published:
    """A worker's data dir after the simulated traffic, a dbt build and the publication."""

    data_dir: Path
    payloads: list[Payload]
    plates: frozenset[str]  # normalised clear plates of every simulated read and payment
    marts: list[str]

    @property
    def warehouse(self) -> Path:
        """The DuckDB warehouse dbt built."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def marts_dir(self) -> Path:
        """Where the marts were published."""
        return self.data_dir / "marts"


def simulated_plates(config: SimulationConfig) -> frozenset[str]:
    """The plates of every vehicle event the simulator renders for `config` (misreads too)."""
    world = simulate_world(config, first_facilities(config.facilities), Counter())
    return frozenset(
        normalise_plate(event.plate)
        for message in world
        for event in message.events
        if getattr(event, "plate", None)
    )


def send_traffic(worker: WorkerProcess, registry: PluginRegistry) -> list[Payload]:
    """Send `CONFIG`'s traffic to the worker's raw topics; wait until all of it landed."""
    payloads: list[Payload] = []
    sink = KafkaSink(worker.bootstrap, Settings().partitions)
    asyncio.run(run_simulation(CONFIG, sink, registry, on_payload=payloads.append))
    expected: set[str] = set()
    for payload in payloads:
        result = parse_payload(registry.get(payload.vendor), payload.data)
        expected |= {event.event_id for event in result.events}
    corrupted = sum(p.corrupted for p in payloads)

    def landed() -> bool:
        events = set(read_table(worker.data_dir, "events").column("event_id").to_pylist())
        letters = read_table(worker.data_dir, "deadletter").column("topic").to_pylist()
        sessions = read_table(worker.data_dir, "sessions").num_rows
        from_kafka = sum(1 for topic in letters if topic and topic.startswith("raw."))
        return expected <= events and from_kafka >= corrupted and sessions > 0

    assert wait_for(landed, timeout=120), "the simulated traffic did not land"
    return payloads


def mart_names() -> list[str]:
    """The dbt models of the marts layer (what the serving assets publish)."""
    return sorted(path.stem for path in (ROOT / "dbt_project" / "models" / "marts").rglob("*.sql"))


def build_and_publish(data_dir: Path, work: Path) -> list[str]:
    """`dbt build` (models and seeds; its tests are other suites' job) on the lake, then
    every mart published to `<data dir>/marts`; the marts published."""
    write_estate_tables(sample_estate(), data_dir)  # as the Dagster build does first
    env = {
        **os.environ,
        "PARKFLOW_DATA_DIR": str(data_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        str(DBT), "build", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
        "--exclude", "resource_type:test", "resource_type:unit_test",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"dbt build failed:\n{done.stdout[-4000:]}\n{done.stderr}"
    marts = mart_names()
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        for mart in marts:
            publish_table(con, mart, data_dir / "marts")
    return marts


def publish(worker: WorkerProcess, work: Path) -> Published:
    """The whole run: traffic through the worker, dbt, publication."""
    registry = PluginRegistry.discover()
    payloads = send_traffic(worker, registry)
    marts = build_and_publish(worker.data_dir, work)
    return Published(worker.data_dir, payloads, simulated_plates(CONFIG), marts)
