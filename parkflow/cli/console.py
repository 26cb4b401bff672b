"""Shared terminal output: one rich console, and user errors without tracebacks."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

# Piped output (CI logs, files) gets wide tables instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a user error (no traceback) and exit with `code`."""
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
