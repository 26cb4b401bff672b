"""Condition-based waiting for tests that watch real processes (never fixed sleeps)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float = 60.0, every: float = 0.5) -> bool:
    """Poll `condition` until it is truthy or `timeout` s passed; its last truth value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())
