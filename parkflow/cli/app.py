"""Root of the `parkflow` command line (typer)."""

import typer

app = typer.Typer(
    name="parkflow",
    help="ParkFlow: open data platform for parking operations.",
    no_args_is_help=True,
)


def main() -> None:
    """Console-script entry point."""
    app()
