"""Recognising re-sent events by id within a window of event time, in bounded memory."""

from __future__ import annotations

from datetime import datetime, timedelta


class RecentIds:
    """Event ids seen within `window` of the newest event time; each id counts once."""

    def __init__(self, window: timedelta = timedelta(hours=1), check_every: int = 4096) -> None:
        self.window = window
        self._check_every = check_every
        self._ids: dict[str, datetime] = {}
        self._newest: datetime | None = None

    def first_time(self, event_id: str, ts: datetime) -> bool:
        """True the first time an id is seen (within the window), False for a repeat."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = ts
        if self._newest is None or ts > self._newest:
            self._newest = ts
        if len(self._ids) % self._check_every == 0:
            self._forget_old()
        return True

    def _forget_old(self) -> None:
        horizon = self._newest - self.window
        self._ids = {i: ts for i, ts in self._ids.items() if ts >= horizon}

    def __len__(self) -> int:
        return len(self._ids)
