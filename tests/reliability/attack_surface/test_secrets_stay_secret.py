"""Secrets come from the environment and never show in logs or outputs (issue 9, part 5e).

The ingest token, the plate key, and the dashboards' login password and cookie secret: the
worker's log and HTTP answers (after requests that put the token in all the wrong places),
what every `parkflow` command prints and logs, and the settings object, are searched for
them.
"""

from __future__ import annotations

import base64

import pytest
from typer.testing import CliRunner

from parkflow import supervision
from parkflow.cli import app as parkflow_cli
from parkflow.settings import Settings
from tests.reliability.attack_surface import raw_http
from tests.waiting import wait_for
from tests.worker_process import INGEST_TOKEN, PLATE_KEY

TOKEN = INGEST_TOKEN.encode()
#: Known secrets the CLI runs with (the worker's are those of `tests.worker_process`).
CLI_SECRETS = {
    "PARKFLOW_INGEST_TOKEN": "cli-ingest-token-5f0c2d8e71",
    "PARKFLOW_PLATE_KEY": "cli-plate-key-a93be0417c66d2f5",
    "PANEL_COOKIE_SECRET": "cli-cookie-secret-0b7e44c1d9a2f",
}
DASHBOARD_PASSWORD = "Dashboard-Passw0rd-e81f"


def forms(secret: str) -> list[str]:
    """A secret as it could leak: as it is, and in base64."""
    return [secret, base64.b64encode(secret.encode()).decode()]


def leaked(text: str, secrets: list[str]) -> list[str]:
    """The secrets (or their base64) that appear in `text`."""
    return [form for secret in secrets for form in forms(secret) if form in text]


@pytest.mark.integration
def test_the_worker_never_logs_or_answers_its_secrets(exposed_worker):
    """Requests with the token where it does not belong, wrong and right; then the log and
    every GET endpoint are searched for the token and the plate key."""
    port = exposed_worker.port
    tries = [
        {"Authorization": b"Basic " + base64.b64encode(b"x:" + TOKEN)},
        {"Authorization": b"Bearer " + TOKEN + b"-wrong"},
        {"Authorization": b"Bearer " + TOKEN, "Content-Type": "image/png"},
        {"Authorization": b"Bearer " + TOKEN, "X-Token": TOKEN},
    ]
    for headers in tries:
        answer = raw_http.send(port, "POST", "/ingest/camguard", b"{", headers)
        assert answer.status in (401, 415, 422)
    right = {"Authorization": b"Bearer " + TOKEN}
    assert raw_http.send(port, "POST", "/ingest/camguard", b"{", right).status == 422
    broken = b"POST /ingest/camguard HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
    raw_http.exchange(port, broken + b"\x00\r\nContent-Length: 0\r\n\r\n")
    assert wait_for(lambda: "malformed HTTP request" in exposed_worker.log.read_text())
    paths = ("/health", "/metrics", "/live/occupancy", "/live/alerts", "/live/devices", "/x")
    answers = [raw_http.send(port, "GET", path).body.decode("latin-1") for path in paths]
    log = exposed_worker.log.read_text(errors="replace")
    assert log.strip(), "the worker logged nothing: the search would prove nothing"
    assert leaked(log, [INGEST_TOKEN, PLATE_KEY]) == []
    assert leaked("\n".join(answers), [INGEST_TOKEN, PLATE_KEY]) == []


def test_the_settings_never_show_a_secret(monkeypatch):
    for name, value in CLI_SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.ingest_token.get_secret_value() == CLI_SECRETS["PARKFLOW_INGEST_TOKEN"]
    assert settings.resolve_plate_key() == CLI_SECRETS["PARKFLOW_PLATE_KEY"].encode()
    shown = "\n".join([repr(settings), str(settings), settings.model_dump_json()])
    assert leaked(shown, list(CLI_SECRETS.values())) == []


@pytest.fixture
def cli(monkeypatch, tmp_path, caplog):
    """Run `parkflow ...` in-process with known secrets; (exit code, output and log lines).

    Commands that would start a server (dashboard, dagster) record the command line
    instead."""
    for name, value in CLI_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PARKFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PARKFLOW_KAFKA_BOOTSTRAP", raising=False)
    started: list[tuple[list[str], dict[str, str]]] = []

    def run_supervised(args, *, cwd, env):
        started.append(([str(a) for a in args], dict(env or {})))
        return 0

    monkeypatch.setattr(supervision, "run_supervised", run_supervised)
    caplog.set_level("DEBUG")

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(parkflow_cli, [str(a) for a in args])
        return result.exit_code, result.output + "\n" + caplog.text

    invoke.started = started
    return invoke


def test_no_parkflow_command_prints_or_logs_a_secret(cli, tmp_path):
    sample = tmp_path / "camguard.jsonl"
    sample.write_bytes(b'{"camera": {"id": "x"}}\nnot json\n')
    commands = [
        ["--help"],
        ["--version"],
        ["plugins", "list"],
        ["status"],
        ["parse", sample, "--dead-letters-out", tmp_path / "dead.jsonl"],
        ["simulate", "--days", "0.01", "--facilities", "1", "--out", tmp_path / "sim"],
        ["lake", "build", "--days", "0.02", "--facilities", "1"],
        ["dagster"],
        ["dashboard", "--basic-auth", DASHBOARD_PASSWORD],
        ["worker", "--help"],
        ["up", "--help"],
    ]
    secrets = [*CLI_SECRETS.values(), DASHBOARD_PASSWORD]
    for command in commands:
        _, output = cli(*command)
        assert output.strip(), f"parkflow {command[0]} printed nothing"
        assert leaked(output, secrets) == [], f"parkflow {' '.join(map(str, command))}"
    assert (tmp_path / "dead.jsonl").stat().st_size > 0
    # the dashboards' cookie secret reaches panel through its environment, not its arguments
    panel_args, panel_env = cli.started[-1]
    assert "serve" in panel_args
    assert panel_env["PANEL_COOKIE_SECRET"] == CLI_SECRETS["PANEL_COOKIE_SECRET"]
    assert leaked(" ".join(panel_args), [CLI_SECRETS["PANEL_COOKIE_SECRET"]]) == []


def test_a_generated_plate_key_is_never_printed(cli, monkeypatch, tmp_path):
    """Without PARKFLOW_PLATE_KEY a key is created in the data dir: it is not shown either."""
    monkeypatch.delenv("PARKFLOW_PLATE_KEY")
    code, output = cli("lake", "build", "--days", "0.02", "--facilities", "1")
    assert code == 0, output
    key = (tmp_path / "data" / "secrets" / "plate_key").read_text().strip()
    assert len(key) >= 32
    assert leaked(output, [key]) == []
