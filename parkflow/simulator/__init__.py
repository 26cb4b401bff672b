"""Traffic simulator: realistic vendor-native payloads for a set of facilities over a period.

    config = SimulationConfig(start=default_start(1), days=1, facilities=3, seed=7)
    manifest = asyncio.run(run_simulation(config, FileSink(Path("out")), discover_plugins()))

See `world` for the field patterns, `transport` for transit faults, `run` for
the outputs (files or Kafka topics) and the manifest.
"""

from parkflow.simulator.catalog import FACILITIES, Facility, FacilityKind, Zone
from parkflow.simulator.config import FaultRates, SimulationConfig, default_start
from parkflow.simulator.run import (
    FileSink,
    KafkaSink,
    Manifest,
    Pacing,
    pause_until,
    read_manifest,
    run_simulation,
    write_manifest,
)

__all__ = [
    "FACILITIES",
    "Facility",
    "FacilityKind",
    "FaultRates",
    "FileSink",
    "KafkaSink",
    "Manifest",
    "Pacing",
    "SimulationConfig",
    "Zone",
    "default_start",
    "pause_until",
    "read_manifest",
    "run_simulation",
    "write_manifest",
]
