"""`parkflow up`: the whole platform as one supervised process group.

The embedded broker (unless `PARKFLOW_KAFKA_BOOTSTRAP` is set) belongs to this
process; honcho supervises the worker, Dagster (UI and daemon) and the
dashboards, each in its own process group. Ctrl-C (or any of them exiting)
stops them all. The addresses are written to `<data dir>/run/up.json` for
`parkflow status`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from honcho.manager import Manager
from rich.table import Table

from parkflow.broker import BrokerError, EmbeddedBroker, free_port
from parkflow.cli.console import console, fail
from parkflow.cli.estate import require_estate
from parkflow.lake import table_dir
from parkflow.settings import load_settings

HOST = "127.0.0.1"
PORTS = {"broker": 9092, "worker": 6066, "dagster": 3000, "dashboard": 5006}
BIN = Path(sys.executable).parent
#: The simulator's default seed: `make demo` shows the same history on every machine.
SEED = 7


def port_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:port."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def choose_ports() -> dict[str, int]:
    """The usual ports, or free ones where they are taken (and say so)."""
    chosen = {}
    for name, wanted in PORTS.items():
        if port_free(wanted):
            chosen[name] = wanted
        else:
            chosen[name] = free_port()
            console.print(f"port {wanted} is taken: {name} uses {chosen[name]}", style="yellow")
    return chosen


def run_file(data_dir: Path) -> Path:
    """Where `parkflow up` writes the addresses of what it runs."""
    return data_dir / "run" / "up.json"


def backfill(bootstrap: str, days: float, facilities: int, seed: int) -> None:
    """Send `days` of simulated history, ending now, through the raw topics."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)
    console.rule(f"backfilling {days:g} days of simulated history through Kafka")
    subprocess.run(
        [str(BIN / "parkflow"), "simulate", "--kafka", "--bootstrap", bootstrap,
         "--days", str(days), "--facilities", str(facilities), "--start", start.isoformat(),
         "--seed", str(seed)],
        check=True,
    )  # fmt: skip


def up(
    history: Annotated[
        float, typer.Option(min=0, help="Days of simulated history to backfill first (0: none).")
    ] = 0,
    simulate: Annotated[
        bool, typer.Option("--simulate", help="Stream live simulated traffic.")
    ] = False,
    facilities: Annotated[int, typer.Option(min=1, max=6, help="Simulated facilities.")] = 3,
    seed: Annotated[
        int, typer.Option(help="Random seed of the simulated history and traffic.")
    ] = SEED,
) -> None:
    """Run broker, worker, Dagster and dashboards together; Ctrl-C stops everything."""
    settings = load_settings()
    require_estate()  # every component reads it: say what is wrong before starting any
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings.resolve_plate_key()  # created once here, so every process uses the same key
    ports = choose_ports()
    with ExitStack() as stack:
        bootstrap = settings.kafka_bootstrap
        if not bootstrap:
            try:
                broker = stack.enter_context(EmbeddedBroker(HOST, ports["broker"]))
            except BrokerError as exc:
                fail(str(exc))
            bootstrap = broker.bootstrap
        urls = {
            "broker": f"kafka://{bootstrap}",
            "worker": f"http://{HOST}:{ports['worker']}",
            "dagster": f"http://{HOST}:{ports['dagster']}",
            "dashboard": f"http://{HOST}:{ports['dashboard']}",
        }
        env = dict(os.environ)
        env["PARKFLOW_DATA_DIR"] = str(data_dir)
        env["PARKFLOW_KAFKA_BOOTSTRAP"] = bootstrap
        env["PARKFLOW_WORKER_URL"] = urls["worker"]
        os.environ.update(env)  # the backfill subprocess too
        has_lake = table_dir(data_dir, "events").exists()
        if history and has_lake:
            console.print(f"reusing the lake in {data_dir} (no backfill; delete it to start over)")
        elif history:
            backfill(bootstrap, history, facilities, seed)
        manager = Manager()
        parkflow = str(BIN / "parkflow")
        manager.add_process("worker", f"{parkflow} worker --web-port {ports['worker']}", env=env)
        manager.add_process("dagster", f"{parkflow} dagster --port {ports['dagster']}", env=env)
        manager.add_process(
            "dashboard", f"{parkflow} dashboard --port {ports['dashboard']}", env=env
        )
        if simulate:
            manager.add_process(
                "traffic",
                f"{parkflow} simulate --live --kafka --bootstrap {bootstrap} "
                f"--facilities {facilities} --seed {seed}",
                env=env,
            )
        run = run_file(data_dir)
        run.parent.mkdir(parents=True, exist_ok=True)
        run.write_text(json.dumps({"pid": os.getpid(), **urls}, indent=2))
        table = Table(title="ParkFlow is starting", show_header=True)
        table.add_column("component")
        table.add_column("address")
        for name, url in urls.items():
            table.add_row(name, url)
        console.print(table)
        console.print("Ctrl-C stops everything. `parkflow status` checks each component.")
        try:
            manager.loop()
        finally:
            run.unlink(missing_ok=True)
    raise typer.Exit(manager.returncode or 0)
