"""`parkflow status`: each component of a running platform, OK or FAIL, with the reason."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlparse

import typer
from rich.table import Table

from parkflow.cli.console import console
from parkflow.cli.up import run_file
from parkflow.settings import load_settings

RUNS_QUERY = """{ runsOrError(limit: 5) { ... on Runs { results { jobName status } } } }"""


def _get(url: str, timeout: float = 5) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def check_broker(url: str) -> str:
    """The broker accepts connections."""
    address = urlparse(url)
    with socket.create_connection((address.hostname, address.port), timeout=3):
        return "accepting connections"


def check_worker(url: str) -> str:
    """The worker is healthy; its consumer lag."""
    health = json.loads(_get(url + "/health"))
    if health.get("status") != "ok":
        raise RuntimeError(f"health says {health.get('status')!r}")
    lag = 0.0
    for line in _get(url + "/metrics").decode().splitlines():
        if line.startswith("parkflow_consumer_lag{"):
            lag += float(line.rsplit(" ", 1)[1])
    return f"{health.get('assigned_partitions', 0)} partitions, lag {lag:,.0f} messages"


def check_dagster(url: str) -> str:
    """Dagster answers GraphQL; the last runs and their outcome."""
    request = urllib.request.Request(
        url + "/graphql",
        data=json.dumps({"query": RUNS_QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        runs = json.loads(response.read())["data"]["runsOrError"]["results"]
    failed = [run["jobName"] for run in runs if run["status"] == "FAILURE"]
    if runs and runs[0]["status"] == "FAILURE":
        raise RuntimeError(f"the last run ({runs[0]['jobName']}) failed")
    done = ", ".join(f"{r['jobName']} {r['status'].lower()}" for r in runs[:3]) or "no runs yet"
    return done + (f" (earlier failures: {len(failed)})" if failed else "")


def check_dashboard(url: str) -> str:
    """The dashboards answer."""
    _get(url + "/", timeout=10)
    return "serving"


CHECKS: dict[str, Callable[[str], str]] = {
    "broker": check_broker,
    "worker": check_worker,
    "dagster": check_dagster,
    "dashboard": check_dashboard,
}


def status() -> None:
    """Check each component `parkflow up` started; exit 1 when any is not OK."""
    path = run_file(load_settings().data_dir.resolve())
    if not path.exists():
        console.print(f"[red]FAIL[/] nothing is running ({path} not found): start `parkflow up`")
        raise typer.Exit(1)
    urls = json.loads(path.read_text())
    table = Table(show_header=True)
    for column in ("component", "state", "address", "detail"):
        table.add_column(column)
    healthy = True
    for name, check in CHECKS.items():
        try:
            detail, state = check(urls[name]), "[green]OK[/]"
        except (OSError, RuntimeError, KeyError, ValueError, urllib.error.URLError) as exc:
            detail, state, healthy = str(exc) or type(exc).__name__, "[red]FAIL[/]", False
        table.add_row(name, state, urls.get(name, "?"), detail)
    console.print(table)
    raise typer.Exit(0 if healthy else 1)
