"""`parkflow broker`: run the embedded Kafka-compatible broker in the foreground."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from parkflow.broker import BrokerError, EmbeddedBroker
from parkflow.cli.console import console, fail


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def broker(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 = a free one).")] = 0,
) -> None:
    """Start the embedded, memory-only Kafka-compatible broker (Tansu) until Ctrl-C."""
    try:
        embedded = EmbeddedBroker(host, port or None).start()
    except BrokerError as exc:
        fail(str(exc))
    console.print(f"embedded broker listening on [bold]{embedded.bootstrap}[/] (memory only)")
    console.print(f"  export PARKFLOW_KAFKA_BOOTSTRAP={embedded.bootstrap}")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        embedded.process.wait()
        fail("the broker stopped unexpectedly")
    except KeyboardInterrupt:
        console.print("stopping the broker")
    finally:
        embedded.stop()
