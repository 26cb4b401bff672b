"""`parkflow dashboard`: the managers' dashboards (`panel serve dashboards/app.py`).

Binds 127.0.0.1 by default. To serve beyond one machine, bind another address, name the
public host(s) with `--allow-websocket-origin`, and require a login with `--basic-auth`
(or put the app behind an OAuth proxy / `panel serve --oauth-provider ...`: docs/dashboards.md).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer

from parkflow import supervision
from parkflow.cli.console import console
from parkflow.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = REPO_ROOT / "dashboards" / "app.py"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def panel_command(
    port: int,
    address: str,
    basic_auth: str | None = None,
    origins: list[str] | None = None,
    autoreload: bool = False,
) -> list[str]:
    """The `panel serve` command line for these options."""
    allowed = list(origins or [])
    if not allowed:
        allowed = [f"{address}:{port}"]
        if address in LOOPBACK:
            allowed += [f"localhost:{port}", f"127.0.0.1:{port}"]
    command = [str(Path(sys.executable).with_name("panel")), "serve", str(APP)]
    command += ["--port", str(port), "--address", address, "--num-procs", "1"]
    for origin in dict.fromkeys(allowed):
        command += ["--allow-websocket-origin", origin]
    if basic_auth:
        command += ["--basic-auth", basic_auth]
    if autoreload:
        command.append("--autoreload")
    return command


def dashboard(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 5006,
    address: Annotated[
        str, typer.Option(help="Interface to bind; 0.0.0.0 serves every network (add a login).")
    ] = "127.0.0.1",
    basic_auth: Annotated[
        str | None,
        typer.Option(
            "--basic-auth",
            help="Require a login: a password for every user, or a JSON file of "
            "{user: password}. A file keeps the password out of the process list.",
        ),
    ] = None,
    allow_websocket_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-websocket-origin",
            help="Public host[:port] browsers use to reach the app (repeatable); "
            "default: the bound address.",
        ),
    ] = None,
    autoreload: Annotated[
        bool, typer.Option("--autoreload", help="Reload when the code changes (development).")
    ] = False,
) -> None:
    """Serve the dashboards (Live, Occupancy, Revenue, Devices, Data quality, Reports)."""
    settings = load_settings()
    env = {**os.environ, "PARKFLOW_DATA_DIR": str(settings.data_dir.resolve())}
    if basic_auth and not env.get("PANEL_COOKIE_SECRET"):
        # the login cookie is signed; a fresh secret per run logs everyone out on restart
        env["PANEL_COOKIE_SECRET"] = secrets.token_urlsafe(32)
    if address not in LOOPBACK and not basic_auth:
        console.print(
            f"serving on {address} without a login: anyone who can reach port {port} sees "
            "the dashboards (use --basic-auth, or an authenticating proxy)",
            style="yellow",
        )
    command = panel_command(port, address, basic_auth, allow_websocket_origin, autoreload)
    shown = "localhost" if address in LOOPBACK else address
    console.print(f"Dashboards on [bold]http://{shown}:{port}/app[/] (marts: {settings.data_dir})")
    raise typer.Exit(supervision.run_supervised(command, cwd=REPO_ROOT, env=env))
