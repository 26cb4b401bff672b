"""`parkflow replay`: vendor files into their raw topics on a real broker, in time order."""

import asyncio

import pytest

from parkflow.broker import EmbeddedBroker
from parkflow.registry import PluginRegistry
from tests.simulator.test_run import consume_all

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker():
    """A broker of this module's own: other tests count what is on the raw topics."""
    with EmbeddedBroker() as embedded:
        yield embedded


def test_replay_sends_every_payload_of_a_simulation_folder(cli, broker, tmp_path):
    out = tmp_path / "sim"
    cli(
        "simulate",
        "--start",
        "2026-11-12",
        "--days",
        "0.1",
        "--seed",
        "8",
        "--out",
        out,
        "--garbage-rate",
        "0.05",
    )
    lines = {p.stem: len(p.read_bytes().splitlines()) for p in out.iterdir() if p.suffix != ".json"}
    result = cli("replay", out, "--bootstrap", broker.bootstrap)
    assert result.exit_code == 0, result.output
    assert f"sent {sum(lines.values())} payloads" in result.output
    names = PluginRegistry.discover().names()
    topics = [f"raw.{n}" for n in names]
    records = asyncio.run(consume_all(broker.bootstrap, topics, sum(lines.values())))
    assert len(records) == sum(lines.values())
    assert len([r for r in records if r.topic == "raw.citycount"]) == lines["citycount"]


def test_replay_without_kafka_says_what_to_do(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("PARKFLOW_KAFKA_BOOTSTRAP", raising=False)
    result = cli("replay", tmp_path)
    assert result.exit_code == 1
    assert "no Kafka to send to" in result.output


def test_payloads_of_several_vendors_are_merged_in_event_time_order(cli, tmp_path):
    from parkflow.replay import replay_payloads, vendor_files

    out = tmp_path / "sim"
    cli(
        "simulate", "--start", "2026-11-12", "--days", "0.1", "--seed", "8", "--out", out, "--clean"
    )
    registry = PluginRegistry.discover()
    payloads = list(replay_payloads(vendor_files([out], registry, None), registry))
    times = [p.deliver_at for p in payloads]
    assert times == sorted(times)
    assert len({p.vendor for p in payloads}) == 5
