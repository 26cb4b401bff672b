"""Every service binds 127.0.0.1 unless configured otherwise (issue 9, part 5b).

The defaults in the code (settings, the embedded broker, the CLI commands), what `parkflow up`
starts (followed through the commands it runs), and, for a real `parkflow worker` with its
embedded broker, the sockets the processes actually listen on.
"""

from __future__ import annotations

import inspect
import json
import os
import shlex
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from parkflow import supervision
from parkflow.broker import EmbeddedBroker, free_port
from parkflow.cli import app as parkflow_cli
from parkflow.cli import broker, dagster, dashboard, up
from parkflow.settings import Settings
from tests.reliability.attack_surface.listening import is_loopback, listening, process_tree
from tests.waiting import wait_for

LOOPBACK = "127.0.0.1"
BIN = Path(sys.executable).parent


def option_default(command: object, name: str) -> object:
    """The default of a CLI command's option (a typer function's parameter)."""
    return inspect.signature(command).parameters[name].default


def test_the_defaults_in_the_code_are_loopback(monkeypatch):
    monkeypatch.delenv("PARKFLOW_WORKER_HOST", raising=False)
    assert Settings().worker_host == LOOPBACK
    assert EmbeddedBroker().host == LOOPBACK
    assert option_default(broker.broker, "host") == LOOPBACK
    assert option_default(dagster.dagster, "host") == LOOPBACK
    assert option_default(dashboard.dashboard, "address") == LOOPBACK
    assert up.HOST == LOOPBACK


class FakeManager:
    """honcho's Manager, recording what `parkflow up` would start."""

    started: dict[str, tuple[str, dict[str, str]]] = {}
    returncode = 0

    def add_process(self, name: str, command: str, env: dict[str, str]) -> None:
        FakeManager.started[name] = (command, env)

    def loop(self) -> None:
        """Return at once, as if every process had stopped."""


class FakeBroker:
    """The embedded broker as `parkflow up` creates it, recording the address."""

    hosts: list[str] = []

    def __init__(self, host: str = LOOPBACK, port: int | None = None) -> None:
        FakeBroker.hosts.append(host)
        self.bootstrap = f"{host}:{port}"

    def __enter__(self) -> FakeBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def run_command(monkeypatch, function, args: list[str]) -> list[str]:
    """Invoke a `parkflow` command function with `args`; the command line it would run."""
    calls: list[list[str]] = []
    monkeypatch.setattr(
        supervision, "run_supervised", lambda args, **kwargs: calls.append(args) or 0
    )
    app = typer.Typer()
    app.command()(function)
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [str(part) for part in calls[-1]]


def test_parkflow_up_starts_every_service_on_loopback(monkeypatch, tmp_path):
    for name in ("PARKFLOW_KAFKA_BOOTSTRAP", "PARKFLOW_WORKER_HOST", "PANEL_COOKIE_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARKFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(up, "Manager", FakeManager)
    monkeypatch.setattr(up, "EmbeddedBroker", FakeBroker)
    result = CliRunner().invoke(parkflow_cli, ["up"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert FakeBroker.hosts == [LOOPBACK]
    assert set(FakeManager.started) == {"worker", "dagster", "dashboard"}

    command, env = FakeManager.started["worker"]
    assert shlex.split(command)[1] == "worker"
    worker_host = env.get("PARKFLOW_WORKER_HOST", Settings.model_fields["worker_host"].default)
    assert worker_host == LOOPBACK

    command, _ = FakeManager.started["dagster"]
    dagster_line = run_command(monkeypatch, dagster.dagster, shlex.split(command)[2:])
    assert dagster_line[dagster_line.index("-h") + 1] == LOOPBACK

    command, _ = FakeManager.started["dashboard"]
    panel_line = run_command(monkeypatch, dashboard.dashboard, shlex.split(command)[2:])
    assert panel_line[panel_line.index("--address") + 1] == LOOPBACK


def health(port: int) -> dict | None:
    """The worker's /health, or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


@pytest.mark.integration
def test_a_worker_and_its_embedded_broker_listen_on_loopback_only(tmp_path):
    """`parkflow worker` with nothing configured: it starts the embedded broker itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARKFLOW_")}
    env |= {"PARKFLOW_DATA_DIR": str(tmp_path), "PARKFLOW_PLATE_KEY": "p" * 32}
    port = free_port()
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [BIN / "parkflow", "worker", "--web-port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    tree: list[int] = []
    try:
        ready = wait_for(lambda: (health(port) or {}).get("assigned_partitions"), timeout=90)
        assert ready, log.read_text()[-2000:]
        tree = process_tree(process.pid)
        addresses = listening(tree)
        assert (LOOPBACK, port) in addresses
        assert len(addresses) >= 2, f"the embedded broker does not listen: {addresses}"
        assert all(is_loopback(host) for host, _ in addresses), addresses
        # and with no token configured, HTTP ingest is off
        call = urllib.request.Request(f"http://127.0.0.1:{port}/ingest/camguard", b"{}")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(call, timeout=10)
        assert refused.value.code == 403
        assert "PARKFLOW_INGEST_TOKEN" in json.loads(refused.value.read())["error"]
    finally:
        stop(process, tree)


def stop(process: subprocess.Popen, tree: list[int]) -> None:
    """SIGTERM the worker (it stops its broker); SIGKILL what is left after 30 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for pid in tree[1:]:  # the broker, when the worker could not stop it
        if wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists(), timeout=10) is False:
            os.kill(pid, signal.SIGKILL)
