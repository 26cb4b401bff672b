"""Faust's own cost per message: a no-op agent on the embedded broker, three ways.

Loads `--messages` small records into an 8-partition topic of the embedded broker, then
runs a Faust worker whose only agent takes batches (`take_events`, as ParkFlow's agents
do) and counts them. It prints the worker's CPU time per message and its rate, for

- `stock`: Faust as it comes (raw serializers, its default monitor and partitioner);
- `patched`: with the patches of `streaming/faust_speedups.py`;
- `lean`: with those patches and the stand-ins of `streaming/lean.py` (the worker's setup).

Every hop of the pipeline (raw -> normalize, parking.events -> events, parking.occupancy
-> occupancy) pays this once per message, on top of what the agent itself does.

    .venv/bin/python benchmarks/faust_hop.py [--messages 200000] [--modes stock patched lean]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parkflow.broker import EmbeddedBroker, free_port
from parkflow.cli.worker import run_faust_worker
from parkflow.kafka import ensure_topics
from streaming.gc_tuning import tune_garbage_collector

TOPIC = "hop.in"
MODES = ("stock", "patched", "lean")


async def preload(bootstrap: str, messages: int) -> None:
    """`messages` records of 300 bytes, keyed by 500 device-like keys."""
    from aiokafka import AIOKafkaProducer

    await ensure_topics(bootstrap, [TOPIC], partitions=8, replication=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        value = b"x" * 300
        keys = [b"dev-%d" % (n % 500) for n in range(messages)]
        await asyncio.gather(*[await producer.send(TOPIC, value, key=key) for key in keys])
    finally:
        await producer.stop()


def child(mode: str, bootstrap: str, messages: int) -> None:
    """Run the no-op worker; print `RESULT <us per message> <messages/s>` and exit."""
    import faust

    from streaming import faust_speedups, lean

    if mode != "stock":
        faust_speedups.apply(100)
    lighter = mode == "lean"
    app = faust.App(
        "hop",
        broker=f"kafka://{bootstrap}",
        store="memory://",
        web_port=free_port(),
        topic_partitions=8,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=6,
        broker_heartbeat_interval=2,
        stream_buffer_maxsize=16384,
        stream_wait_empty=False,
        broker_max_poll_records=2000,
        consumer_max_fetch_size=4 * 1024 * 1024,
        **({"Monitor": lean.OffsetsMonitor} if lighter else {}),
    )
    if lighter:
        topic = app.topic(TOPIC, schema=lean.RawBytes(key_serializer="raw", value_serializer="raw"))
    else:
        topic = app.topic(TOPIC, key_serializer="raw", value_serializer="raw")
    seen = {"n": 0, "cpu": 0.0, "wall": 0.0}

    @app.agent(topic)
    async def count(stream) -> None:
        async for batch in stream.take_events(5000, within=0.2):
            if not seen["n"]:  # the clock starts with the first batch: start-up is not counted
                seen["cpu"], seen["wall"] = time.process_time(), time.perf_counter()
            seen["n"] += len(batch)
            if seen["n"] >= messages:
                cpu = time.process_time() - seen["cpu"]
                wall = time.perf_counter() - seen["wall"]
                print(f"RESULT {cpu / seen['n'] * 1e6:.1f} {seen['n'] / wall:.0f}", flush=True)
                os._exit(0)

    tune_garbage_collector(50_000)  # as `parkflow worker` runs by default
    run_faust_worker(app, "warn")


def measure(mode: str, messages: int) -> tuple[float, float]:
    """(CPU us per message, messages/s) of one mode, on a fresh broker."""
    with EmbeddedBroker() as broker:
        asyncio.run(preload(broker.bootstrap, messages))
        run = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--bootstrap", broker.bootstrap,
             "--messages", str(messages)],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    found = re.search(r"RESULT ([0-9.]+) ([0-9]+)", run.stdout + run.stderr)  # Faust logs prints
    if found:
        return float(found[1]), float(found[2])
    raise SystemExit(f"{mode}: no result (exit {run.returncode}):\n{run.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.bootstrap, args.messages)
        return
    print(f"no-op agent, {args.messages:,} messages of 300 bytes, 8 partitions, embedded broker")
    print("| mode | CPU us per message | messages/s |\n|---|---|---|")
    for mode in args.modes:
        per_message, rate = measure(mode, args.messages)
        print(f"| {mode} | {per_message:.1f} | {rate:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
