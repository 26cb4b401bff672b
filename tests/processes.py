"""Helpers for tests that start process trees (`parkflow up`, `parkflow dagster`)."""

from __future__ import annotations

import os
import signal
import subprocess
import time


def group_gone(group: int, within: float) -> bool:
    """True once no process of the group is left; after `within` s, kill the rest, say False."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True)
        if not left.stdout.strip():
            return True
        time.sleep(0.5)
    os.killpg(group, signal.SIGKILL)  # so a failing test leaks nothing
    return False
