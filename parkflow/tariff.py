"""The parking tariff: what a stay costs (the same rule the revenue marts apply)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Tariff:
    """Free under the grace period, then a base fee plus an hourly rate per started hour, capped."""

    base_fee: Decimal = Decimal("2.00")
    hourly_rate: Decimal = Decimal("3.00")
    max_fee: Decimal = Decimal("25.00")
    grace_minutes: int = 5

    def __post_init__(self) -> None:
        for name in ("base_fee", "hourly_rate", "max_fee"):  # amounts in cents, however given
            object.__setattr__(self, name, Decimal(getattr(self, name)).quantize(_CENT))

    def amount_due(self, stay: timedelta) -> Decimal:
        """min(max_fee, base_fee + hourly_rate x started hours), or 0 under the grace period."""
        seconds = stay.total_seconds()
        if seconds < self.grace_minutes * 60:
            return Decimal("0.00")
        started_hours = max(1, math.ceil(seconds / 3600))
        return min(self.max_fee, self.base_fee + self.hourly_rate * started_hours).quantize(
            Decimal("0.01")
        )
