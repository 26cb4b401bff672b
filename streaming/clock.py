"""Event time for an agent's timers: the newest event time, lagged, following the wall clock
when the stream is idle."""

from __future__ import annotations

import time
from collections import deque
from datetime import datetime, timedelta

#: A stream quiet for longer than this lets event time follow the wall clock, so timers
#: still fire when traffic stops (e.g. at night).
IDLE_AFTER = timedelta(seconds=30)
#: Seconds of processing time the timers lag behind the newest event time.
LAG_S = 5.0


class EventClock:
    """Event time as timers may use it.

    The newest event time seen, as it was `lag_s` seconds ago: inputs from different
    vendors' topics reach an agent with some skew (in a fast replay, hours of event
    time), and an exit must not be declared unmatched while its entry is in flight.
    After `idle_after` without newer events, event time follows the wall clock.
    """

    def __init__(self, lag_s: float = LAG_S, idle_after: timedelta = IDLE_AFTER) -> None:
        self.lag_s = lag_s
        self.idle_after = idle_after
        self.newest: datetime | None = None
        self.seen_at = 0.0
        self._history: deque[tuple[float, datetime]] = deque()

    def observe(self, ts: datetime) -> None:
        """Note an event time."""
        if self.newest is not None and ts <= self.newest:
            return
        now = time.monotonic()
        self.newest, self.seen_at = ts, now
        if self._history and now - self._history[-1][0] < 0.1:
            self._history[-1] = (self._history[-1][0], ts)  # keep the history short
        else:
            self._history.append((now, ts))

    def now(self) -> datetime | None:
        """The event time timers may act on, or None before anything is old enough."""
        wall = time.monotonic()
        cutoff = wall - self.lag_s
        while len(self._history) > 1 and self._history[1][0] <= cutoff:
            self._history.popleft()
        if not self._history or self._history[0][0] > cutoff:
            return None
        lagged = self._history[0][1]
        idle = timedelta(seconds=wall - self.seen_at) - self.idle_after
        return max(lagged, self.newest + idle) if idle > timedelta(0) else lagged
