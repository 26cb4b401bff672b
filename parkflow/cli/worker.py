"""`parkflow worker`: the streaming worker (Faust), with the embedded broker when needed."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import typer

from parkflow.broker import BrokerError, EmbeddedBroker
from parkflow.cli.console import console, fail
from parkflow.cli.estate import require_estate
from parkflow.kafka import DEADLETTER_TOPIC, EVENTS_TOPIC, OCCUPANCY_TOPIC, ensure_topics, raw_topic
from parkflow.settings import Settings, load_settings
from streaming.gc_tuning import tune_garbage_collector

if TYPE_CHECKING:
    import faust


def worker(
    web_port: Annotated[
        int | None, typer.Option(help="Port of the live API and ingest endpoint (default 6066).")
    ] = None,
    loglevel: Annotated[str, typer.Option(help="crit, error, warn, info or debug.")] = "warn",
) -> None:
    """Run the streaming worker: normalize, sessions, devices, occupancy, lake sinks.

    With PARKFLOW_KAFKA_BOOTSTRAP unset it first starts the embedded broker
    (memory only) on a free local port and prints its address.
    """
    settings = load_settings()
    require_estate()  # a bad estate file is said here, not as a traceback from the agents
    embedded = None
    if not settings.kafka_bootstrap:
        try:
            embedded = EmbeddedBroker().start()
        except BrokerError as exc:
            fail(str(exc))
        os.environ["PARKFLOW_KAFKA_BOOTSTRAP"] = embedded.bootstrap
        console.print(f"embedded broker on [bold]{embedded.bootstrap}[/] (memory only)")
    if web_port is not None:
        os.environ["PARKFLOW_WORKER_PORT"] = str(web_port)
    try:
        from streaming.app import app, plugins

        create_topics(os.environ["PARKFLOW_KAFKA_BOOTSTRAP"], plugins.names(), settings)

        tune_garbage_collector(settings.worker_gc_threshold)
        run_faust_worker(app, loglevel)
    finally:
        if embedded is not None:
            embedded.stop()


def run_faust_worker(app: faust.App, loglevel: str) -> None:
    """Run `app` in a Faust worker without its terminal spinner, until it stops.

    The spinner sets the root logger to DEBUG so that it spins on every record: every debug
    call on the hot path then builds a record (measured, benchmarks/RESULTS.md). No spinner,
    no DEBUG.
    """
    import faust

    class Worker(faust.Worker):
        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            self.spinner = None
            super().on_setup_root_logger(logger, level)

    Worker(app, loglevel=loglevel.upper()).execute_from_commandline()


def create_topics(bootstrap: str, vendors: Iterable[str], settings: Settings) -> list[str]:
    """Create the topics the worker reads and writes that do not exist yet, with
    `PARKFLOW_PARTITIONS` partitions and explicit configs (left to the broker, they would get
    its default partition count and no configs). Returns the names created; when Kafka cannot
    be reached it says so and returns none (the worker then waits for Kafka as before)."""
    names = [*(raw_topic(vendor) for vendor in vendors), EVENTS_TOPIC, OCCUPANCY_TOPIC]
    names.append(DEADLETTER_TOPIC)
    creating = ensure_topics(
        bootstrap, names, partitions=settings.partitions, replication=settings.kafka_replication
    )
    loop = asyncio.new_event_loop()  # not asyncio.run: it would unset the loop Faust then uses
    try:
        return loop.run_until_complete(creating)
    except Exception as exc:  # Kafka down or refusing: the worker waits for it anyway
        console.print(f"[yellow]could not create the topics on {bootstrap}:[/] {exc}")
        return []
    finally:
        loop.close()
