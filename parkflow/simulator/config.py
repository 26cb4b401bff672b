"""What to simulate: the period, the facilities, the seed, and how often things go wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class FaultRates(BaseModel):
    """How often the field goes wrong; defaults are what a real deployment sees."""

    model_config = ConfigDict(frozen=True)

    misread: Rate = Field(0.03, description="Share of ANPR reads with a misread plate.")
    duplicate: Rate = Field(0.01, description="Share of payloads a device sends twice.")
    missing_exit: Rate = Field(0.02, description="Share of exits the exit camera misses.")
    late: Rate = Field(0.02, description="Share of payloads delivered 1-15 min late.")
    outage: Rate = Field(
        0.001, description="Chance per telemetry reading that the device goes dark 5-30 min."
    )
    out_of_range: Rate = Field(
        0.002, description="Share of telemetry and count readings that are out of range."
    )
    garbage: Rate = Field(0.005, description="Share of payloads corrupted in transit.")

    @classmethod
    def none(cls) -> FaultRates:
        """A perfect world: every fault rate 0."""
        return cls(**dict.fromkeys(cls.model_fields, 0.0))


def default_start(days: float) -> datetime:
    """Midnight UTC `days` days before today's, so a default period ends before now."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days)


class SimulationConfig(BaseModel):
    """A simulation run."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    days: Annotated[float, Field(gt=0, le=366)] = 1.0
    facilities: Annotated[int, Field(ge=1, le=6)] = 3
    seed: int = 7
    faults: FaultRates = FaultRates()
    telemetry_interval_s: Annotated[int, Field(ge=5, le=3600)] = 60
    count_interval_s: Annotated[int, Field(ge=60, le=3600)] = 300
    heartbeat_interval_s: Annotated[int, Field(ge=60, le=86400)] = 3600

    @model_validator(mode="after")
    def _aware_start(self) -> SimulationConfig:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        return self

    @property
    def end(self) -> datetime:
        """End of the simulated period (exclusive)."""
        return self.start + timedelta(days=self.days)
