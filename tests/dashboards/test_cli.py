"""`parkflow dashboard`: the `panel serve` it runs (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import urllib.parse

import pytest
import typer
from typer.testing import CliRunner

from parkflow import supervision
from parkflow.broker import free_port, wait_for_port
from parkflow.cli import dashboard as command


@pytest.fixture
def run(monkeypatch, tmp_path):
    """Invoke the command (registered on a Typer app of its own) and capture what it runs."""
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(args: list[str], *, cwd: object, env: dict) -> int:
        calls.append((args, env))
        return 0

    monkeypatch.setattr(supervision, "run_supervised", fake_run)
    monkeypatch.setenv("PARKFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PANEL_COOKIE_SECRET", raising=False)
    app = typer.Typer()
    app.command()(command.dashboard)

    def invoke(*args: str):
        result = CliRunner().invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return calls[-1][0], calls[-1][1], result.output

    return invoke


def option(args: list[str], name: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == name]


def test_defaults_bind_loopback_on_5006(run, tmp_path):
    args, env, output = run()
    assert args[1:3] == ["serve", str(command.APP)]
    assert option(args, "--address") == ["127.0.0.1"]
    assert option(args, "--port") == ["5006"]
    assert "localhost:5006" in option(args, "--allow-websocket-origin")
    assert "--basic-auth" not in args
    assert env["PARKFLOW_DATA_DIR"] == str(tmp_path.resolve())
    assert "http://localhost:5006/app" in output


def test_basic_auth_gets_a_cookie_secret_outside_the_command_line(run):
    args, env, _ = run("--basic-auth", "/etc/parkflow/users.json", "--port", "8080")
    assert option(args, "--basic-auth") == ["/etc/parkflow/users.json"]
    assert len(env["PANEL_COOKIE_SECRET"]) >= 32
    assert env["PANEL_COOKIE_SECRET"] not in args


def test_serving_beyond_one_machine_names_the_public_host(run):
    args, _, output = run("--address", "0.0.0.0", "--allow-websocket-origin", "parking.example.com")
    assert option(args, "--address") == ["0.0.0.0"]
    assert option(args, "--allow-websocket-origin") == ["parking.example.com"]
    assert "without a login" in output


def test_basic_auth_really_asks_for_a_login(tmp_path):
    """The command line it builds, run for real: no page without logging in."""
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"ana": "Correct-Horse-7"}))
    port = free_port()
    env = {**os.environ, "PARKFLOW_DATA_DIR": str(tmp_path), "PANEL_COOKIE_SECRET": "s" * 40}
    args = command.panel_command(port, "127.0.0.1", basic_auth=str(users))
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        status, headers, _ = request("GET", port, "/app")
        assert status == 302
        assert "login" in headers["Location"]
        form = {"username": "ana", "password": "wrong"}
        assert "error" in request("POST", port, "/login", form)[1]["Location"]
        status, headers, _ = request("POST", port, "/login", form | {"password": "Correct-Horse-7"})
        cookie = "; ".join(c.split(";")[0] for c in headers.get_all("Set-Cookie"))
        assert request("GET", port, "/app", cookie=cookie)[0] == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def request(method: str, port: int, path: str, form: dict | None = None, cookie: str = ""):
    """(status, headers, body) of one request, redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urllib.parse.urlencode(form) if form else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
    if cookie:
        headers["Cookie"] = cookie
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.headers, response.read()
