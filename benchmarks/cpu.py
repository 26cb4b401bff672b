"""CPU time (user + system) of groups of processes, from Linux's /proc.

Wall times on a busy machine grow with the load; the CPU time a measurement costs does not
(much), so the benchmarks report both. Take a snapshot before and after, and `spent` says what
the processes used in between (processes that ended in between are left out).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")

Snapshot = dict[int, float]  # pid -> CPU ms used so far


@dataclass(frozen=True)
class Process:
    """What /proc/<pid>/stat says about one process."""

    pid: int
    parent: int
    group: int
    name: str
    cpu_ms: float


def processes() -> list[Process]:
    """Every process visible now."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            # after the name: state ppid pgrp session ... utime (12th) stime (13th)
            fields = text[text.rindex(")") + 2 :].split()
            ticks = int(fields[11]) + int(fields[12])
            pid = int(stat.parent.name)
            found.append(Process(pid, int(fields[1]), int(fields[2]), name, ticks * TICK_MS))
    return found


def group(group_id: int) -> Snapshot:
    """The processes of a process group."""
    return {p.pid: p.cpu_ms for p in processes() if p.group == group_id}


def descendants(root: int, name: str) -> Snapshot:
    """The descendants of process `root` whose name contains `name`."""
    children: dict[int, list[Process]] = {}
    for process in processes():
        children.setdefault(process.parent, []).append(process)
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if name in child.name:
                found[child.pid] = child.cpu_ms
            todo.append(child.pid)
    return found


def spent(before: Snapshot, after: Snapshot) -> float:
    """CPU ms used between two snapshots by the processes alive at the second."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
