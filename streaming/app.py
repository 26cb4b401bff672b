"""The Faust application: settings from the environment, topics, and the agents.

`parkflow worker` runs it (starting the embedded broker when no Kafka is
configured); `faust -A streaming.app worker` works too when
PARKFLOW_KAFKA_BOOTSTRAP is set. Settings follow what was measured on this
kind of machine (ARCHITECTURE, "What limits Faust's speed").
"""

from __future__ import annotations

import faust

from parkflow.estate import load_estate
from parkflow.registry import discover_plugins
from parkflow.settings import load_settings
from streaming import faust_fixes, faust_speedups
from streaming.http_errors import install_log_filter, json_errors
from streaming.lean import MemoPartitioner, OffsetsMonitor

settings = load_settings()
estate = load_estate(settings.estate)
plugins = discover_plugins()
if settings.faust_speedups:
    faust_speedups.apply(settings.kafka_fetch_max_wait_ms)
if settings.faust_refetch_fix:
    faust_fixes.apply()

if not settings.kafka_bootstrap:
    raise RuntimeError(
        "PARKFLOW_KAFKA_BOOTSTRAP is not set: start the worker with `parkflow worker`, "
        "which starts the embedded broker when no Kafka is configured"
    )

app = faust.App(
    "parkflow",
    broker=[f"kafka://{server.strip()}" for server in settings.kafka_bootstrap.split(",")],
    store="memory://",
    datadir=str(settings.data_dir / "faust"),
    web_host=settings.worker_host,
    web_bind=settings.worker_host,
    web_port=settings.worker_port,
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.kafka_replication,
    consumer_auto_offset_reset="earliest",
    broker_session_timeout=settings.kafka_session_timeout_s,
    broker_heartbeat_interval=min(3.0, settings.kafka_session_timeout_s / 3),
    stream_buffer_maxsize=16384,
    stream_wait_empty=False,
    broker_max_poll_records=2000,
    consumer_max_fetch_size=4 * 1024 * 1024,
    producer_linger=0.005,
    producer_max_batch_size=256 * 1024,
    producer_acks=1 if settings.kafka_replication == 1 else -1,
    producer_partitioner=MemoPartitioner(),  # Kafka's default, each key hashed once
    table_standby_replicas=0,
    Monitor=OffsetsMonitor,  # offsets only, no per-event statistics (streaming/lean.py)
    # JSON errors without tracebacks; the ingest views read bodies within their own limits
    # (streaming.http_input), and aiohttp's own limit backs them up for any other view
    web_application_options={
        "middlewares": [json_errors],
        "client_max_size": max(settings.max_payload_bytes, settings.ingest_max_body_bytes),
    },
)

install_log_filter()  # no header lines (a bearer token) of malformed requests in the log

# the agents register themselves on `app` when imported
from streaming import web  # noqa: E402, F401
from streaming.agents import events, normalize, occupancy, sinks  # noqa: E402, F401
