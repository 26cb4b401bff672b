"""Simulation runs: files that parse back, faults at their rates, Kafka topics, live mode."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer

from parkflow.parsing import parse_payload
from parkflow.registry import PluginRegistry
from parkflow.simulator import read_manifest

REGISTRY = PluginRegistry.discover()


def parse_folder(folder):
    """Parse every vendor file like the normalize step: (events per vendor, dead letters)."""
    events, dead = Counter(), Counter()
    for path in folder.iterdir():
        if path.stem not in REGISTRY:
            continue
        plugin = REGISTRY.get(path.stem)
        for line in path.read_bytes().splitlines():
            result = parse_payload(plugin, line)
            if result.ok:
                events[path.stem] += len(result.events)
            else:
                dead[path.stem] += 1
    return events, dead


def test_a_clean_day_parses_back_with_zero_dead_letters(cli, tmp_path):
    out = tmp_path / "sim"
    result = cli(
        "simulate", "--days", "1", "--facilities", "3", "--seed", "7", "--out", out, "--clean"
    )
    assert result.exit_code == 0, result.output
    manifest = read_manifest(out)
    events, dead = parse_folder(out)
    assert sum(dead.values()) == 0
    assert events == Counter({name: v.events for name, v in manifest.vendors.items()})
    assert set(events) == {"camguard", "paymaster", "baynode", "voltwatch", "citycount"}
    assert manifest.truth["sessions"] > 500


def test_faulty_traffic_gives_the_expected_share_of_dead_letters(cli, tmp_path):
    out = tmp_path / "sim"
    result = cli(
        "simulate",
        "--days",
        "1",
        "--seed",
        "7",
        "--out",
        out,
        "--garbage-rate",
        "0.05",
        "--duplicate-rate",
        "0.05",
        "--late-rate",
        "0.05",
    )
    assert result.exit_code == 0, result.output
    manifest = read_manifest(out)
    events, dead = parse_folder(out)
    for name, stats in manifest.vendors.items():
        assert dead[name] == stats.corrupted, name  # every corrupted payload, and only those
        assert events[name] == stats.events, name
    payloads = sum(v.payloads for v in manifest.vendors.values())
    assert sum(dead.values()) / payloads == pytest.approx(0.05, abs=0.01)
    lines = (out / "camguard.jsonl").read_bytes().splitlines()
    assert len(set(lines)) < len(lines)  # duplicates are byte-identical re-sends
    assert manifest.vendors["camguard"].late > 0


def test_the_same_seed_writes_the_same_files(cli, tmp_path):
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        cli("simulate", "--start", "2026-11-10", "--days", "0.5", "--seed", "3", "--out", out)
        outputs.append({p.name: p.read_bytes() for p in out.iterdir() if p.suffix != ".json"})
    assert outputs[0] == outputs[1]


def test_a_period_in_the_future_is_refused_with_a_clear_message(cli):
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    result = cli("simulate", "--start", tomorrow)
    assert result.exit_code == 1
    assert "in the future" in result.output
    assert "Traceback" not in result.output


async def consume_all(bootstrap: str, topics: list[str], expected: int) -> list:
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        enable_auto_commit=False,
    )
    await consumer.start()
    records = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            records += [r for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return records


@pytest.mark.integration
def test_payloads_go_to_raw_vendor_topics_on_a_real_broker(cli, broker):
    result = cli(
        "simulate",
        "--kafka",
        "--bootstrap",
        broker.bootstrap,
        "--events",
        "400",
        "--delay",
        "0",
        "--clean",
        "--seed",
        "21",
    )
    assert result.exit_code == 0, result.output
    topics = [f"raw.{name}" for name in REGISTRY.names()]
    records = asyncio.run(consume_all(broker.bootstrap, topics, 400))
    assert len(records) == 400
    for record in records:
        plugin = REGISTRY.get(record.topic.removeprefix("raw."))
        assert parse_payload(plugin, record.value).ok
        assert record.key  # keyed by device id: one device's messages stay in order


@pytest.mark.integration
def test_live_mode_streams_current_traffic(cli, broker):
    started = datetime.now(UTC)
    result = cli(
        "simulate",
        "--live",
        "--bootstrap",
        broker.bootstrap,
        "--events",
        "6",
        "--telemetry-interval",
        "5",
        "--clean",
        "--seed",
        "5",
    )
    assert result.exit_code == 0, result.output
    records = asyncio.run(consume_all(broker.bootstrap, ["raw.voltwatch"], 1))
    plugin = REGISTRY.get("voltwatch")
    latest = max(e.ts for r in records for e in plugin.parse(r.value))
    assert started - timedelta(seconds=2) <= latest <= datetime.now(UTC)


def test_pause_until_sleeps_until_due_but_not_for_less_than_the_minimum(monkeypatch):
    import time

    from parkflow.simulator import pause_until
    from parkflow.simulator import run as simulator_run

    due = time.monotonic() + 0.03
    asyncio.run(pause_until(due))
    assert time.monotonic() >= due

    slept = []
    monkeypatch.setattr(simulator_run.asyncio, "sleep", lambda s: slept.append(s))
    asyncio.run(pause_until(time.monotonic() + simulator_run.MIN_PAUSE_S / 4))
    asyncio.run(pause_until(time.monotonic() - 1))
    assert slept == []
