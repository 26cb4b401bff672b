"""`parkflow demo`: a quick tour with no services running (`make demo` runs `parkflow up`).

It shows the foundation end to end: the installed vendor plugins, a simulated
day of traffic from three facilities in five vendor formats, and those
payloads parsed back into canonical events and dead letters.
"""

from __future__ import annotations

from typing import Annotated

import typer

from parkflow.cli.console import console
from parkflow.cli.parse import parse
from parkflow.cli.plugins import list_plugins
from parkflow.cli.simulate import simulate
from parkflow.settings import load_settings


def demo(
    days: Annotated[float, typer.Option(min=0.01, help="Days of simulated traffic.")] = 1.0,
    facilities: Annotated[int, typer.Option(min=1, max=6, help="How many facilities.")] = 3,
) -> None:
    """Run the platform's demo on the embedded defaults."""
    folder = load_settings().data_dir / "demo" / "simulated"
    console.rule("vendor plugins")
    list_plugins(as_json=False)
    console.rule(f"simulating {days:g} day(s) of traffic at {facilities} facilities")
    simulate(days=days, facilities=facilities, out=folder)
    console.rule("parsing the vendor payloads back through the plugins")
    parse([folder])
    console.print(f"\nvendor files and manifest: [bold]{folder}[/]")
