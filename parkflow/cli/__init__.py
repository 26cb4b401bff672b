"""The `parkflow` command line."""

from parkflow.cli.app import app, main

__all__ = ["app", "main"]
