"""The streaming worker's live API (`GET /live/occupancy`, `/live/alerts`, `/live/devices`).

The base URL comes from `PARKFLOW_WORKER_URL` (default `http://127.0.0.1:6066`), read here
and nowhere else in the dashboards.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_WORKER_URL = "http://127.0.0.1:6066"
TIMEOUT_S = 1.5  # a refresh every few seconds must not hang on a dead worker


def worker_url() -> str:
    """Base URL of the worker's web server."""
    return os.environ.get("PARKFLOW_WORKER_URL", DEFAULT_WORKER_URL).rstrip("/")


@dataclass(frozen=True)
class Backlog:
    """What the worker has still to read (`GET /live/occupancy`'s `backlog`)."""

    payloads: int = 0
    batches: int = 0
    catching_up: bool = False


@dataclass(frozen=True)
class LiveSnapshot:
    """What the worker holds now, or why it could not be read (`error`)."""

    fetched_at: datetime
    occupancy: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    as_of: str | None = None
    event_time: datetime | None = None  # the newest event time the worker counted
    backlog: Backlog = field(default_factory=Backlog)
    error: str | None = None

    @property
    def online(self) -> bool:
        """Whether the worker answered."""
        return self.error is None


def _get(base: str, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(base + path, timeout=TIMEOUT_S) as response:
        return json.loads(response.read())


def fetch_live(base: str | None = None) -> LiveSnapshot:
    """Read the three live views; a worker that is down gives a snapshot with `error` set."""
    base = base or worker_url()
    now = datetime.now(UTC)
    try:
        occupancy = _get(base, "/live/occupancy")
        alerts = _get(base, "/live/alerts")
        devices = _get(base, "/live/devices")
    except (OSError, ValueError) as exc:  # refused, timed out, HTTP error, not JSON
        reason = getattr(exc, "reason", None) or exc
        return LiveSnapshot(fetched_at=now, error=f"{type(exc).__name__}: {reason}")
    event_time = occupancy.get("event_time") or alerts.get("event_time")
    behind = occupancy.get("backlog") or {}
    return LiveSnapshot(
        fetched_at=now,
        occupancy=list(occupancy.get("occupancy", [])),
        alerts=list(alerts.get("alerts", [])),
        devices=list(devices.get("devices", [])),
        as_of=occupancy.get("as_of"),
        event_time=datetime.fromisoformat(event_time) if event_time else None,
        backlog=Backlog(
            payloads=int(behind.get("payloads", 0)),
            batches=int(behind.get("batches", 0)),
            catching_up=bool(behind.get("catching_up", False)),
        ),
    )
