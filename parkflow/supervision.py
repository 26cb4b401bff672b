"""Run a long-lived child (`dagster dev`, `panel serve`) so that stopping it leaves nothing behind.

The child stays in our process group, so Ctrl-C in a terminal, honcho and `kill -- -PGID` reach
it and everything it started directly. On SIGTERM or SIGINT we wait for the child's own clean
shutdown for a bounded grace period, then kill whatever is left of the group: `dagster dev`
alone may wait 60 s per service and leaves run workers that outlive it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

STOP_GRACE_S = 20.0


def group_members(group: int) -> list[int]:
    """Pids of the live processes of process group `group` (Linux `/proc`)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(entry.name))
    return members


def _kill_rest_of_group(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL every other member of our group if we lead it, else the child alone."""
    own = os.getpid()
    if os.getpgrp() != own:  # not our group to clean up: only our child is ours
        if child.poll() is None:
            child.kill()
        return
    for pid in group_members(own):
        if pid != own:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def run_supervised(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    grace_s: float = STOP_GRACE_S,
) -> int:
    """Run `command` until it exits; once asked to stop, give it `grace_s` then kill the rest."""
    child = subprocess.Popen(list(command), cwd=cwd, env=dict(env))
    stop_by: list[float] = []

    def ask_to_stop(signum: int, _frame: object) -> None:
        # the group's signal reached the child too; only the first one starts the clock
        if not stop_by:
            stop_by.append(time.monotonic() + grace_s)

    previous = {s: signal.signal(s, ask_to_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while child.poll() is None:
            if stop_by and time.monotonic() > stop_by[0]:
                break
            time.sleep(0.2)
        if stop_by:
            # processes the child started may outlive it: give them the rest of the grace
            while time.monotonic() < stop_by[0] and _others_left(child):
                time.sleep(0.2)
            _kill_rest_of_group(child)
        code = child.wait()
        return 128 - code if code < 0 else code  # killed by signal N: the shell's 128 + N
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _others_left(child: subprocess.Popen[bytes]) -> bool:
    own = os.getpid()
    if os.getpgrp() != own:
        return child.poll() is None
    return any(pid != own for pid in group_members(own))
