"""Shared fixtures: the CLI runner and a real embedded Kafka-compatible broker."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from parkflow.broker import EmbeddedBroker


@pytest.fixture(scope="session")
def broker():
    """A real Tansu broker over TCP on a free local port, for the whole test session."""
    with EmbeddedBroker() as embedded:
        yield embedded


@pytest.fixture
def cli(monkeypatch, tmp_path):
    """Invoke `parkflow ...` in-process with a private data dir; returns the result."""
    from parkflow.cli import app

    monkeypatch.setenv("PARKFLOW_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke
