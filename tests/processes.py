"""Helpers for tests that start process trees (`parkflow up`, `parkflow dagster`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


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


def stop_group(process: subprocess.Popen, sig: int = signal.SIGINT, grace: float = 90) -> None:
    """Stop a process started in a session of its own, its whole group: `sig` (Ctrl-C's by
    default), then SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def processes_using(data_dir: Path) -> list[str]:
    """`pid command` of every live process whose environment has PARKFLOW_DATA_DIR=`data_dir`.

    Every process ParkFlow starts inherits that variable, whatever session or group it ends up
    in (honcho starts each service in a session of its own), so this finds strays by ancestry.
    """
    markers = {f"PARKFLOW_DATA_DIR={path}".encode() for path in (data_dir, data_dir.resolve())}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if markers.isdisjoint((entry / "environ").read_bytes().split(b"\0")):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # exited, or not ours to read
            continue
        if command:  # zombies have no command line: they are gone, only not reaped yet
            found.append(f"{entry.name} {command[:200]}")
    return found


def none_left_using(data_dir: Path, within: float) -> list[str]:
    """Wait up to `within` s for `processes_using(data_dir)` to empty; kill and return strays."""
    deadline = time.monotonic() + within
    while (left := processes_using(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for line in left:  # so a failing test leaks nothing
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    return left
