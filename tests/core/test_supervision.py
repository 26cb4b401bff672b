"""`run_supervised`: a stop request leaves no process of the group behind, even stubborn ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.processes import group_gone


def supervisor(tmp_path, child_code: str, grace_s: float) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(child_code)
    code = (
        "import sys; from pathlib import Path; from parkflow.supervision import run_supervised; "
        f"sys.exit(run_supervised([sys.executable, {str(script)!r}], cwd=Path('.'), "
        f"env=dict(__import__('os').environ), grace_s={grace_s}))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE, text=True
    )


def test_a_stubborn_child_and_its_children_are_killed_after_the_grace(tmp_path):
    child = "import signal, subprocess, sys, time\n"
    child += "for s in (signal.SIGTERM, signal.SIGINT):\n    signal.signal(s, signal.SIG_IGN)\n"
    child += "if sys.argv[1:] != ['grandchild']:\n"
    child += "    subprocess.Popen([sys.executable, __file__, 'grandchild'])\n"
    child += "    print('ready', flush=True)\n"
    child += "time.sleep(600)\n"
    process = supervisor(tmp_path, child, grace_s=2)
    assert process.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # the grandchild is started
    assert len(subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True,
                              text=True).stdout.split()) == 3  # fmt: skip
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=15) == 128 + signal.SIGKILL
    assert time.monotonic() - started >= 2  # the grace was given
    assert group_gone(process.pid, within=5)


def test_a_child_that_stops_cleanly_keeps_its_exit_code(tmp_path):
    child = "import signal, sys, time\n"
    child += "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    child += "print('ready', flush=True)\ntime.sleep(600)\n"
    process = supervisor(tmp_path, child, grace_s=30)
    assert process.stdout.readline().strip() == "ready"
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert time.monotonic() - started < 10  # no waiting out the grace
    assert group_gone(process.pid, within=5)


def test_without_a_stop_request_the_child_exit_code_passes_through(tmp_path):
    process = supervisor(tmp_path, "import sys; sys.exit(3)\n", grace_s=30)
    assert process.wait(timeout=15) == 3
