"""`parkflow worker` creates its topics itself, with the configured partitions."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from parkflow.broker import EmbeddedBroker
from parkflow.cli.worker import create_topics
from parkflow.settings import Settings


async def partitions_of(bootstrap: str, topics: list[str]) -> dict[str, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()  # loads the metadata of every topic
        return {topic: len(consumer.partitions_for_topic(topic) or ()) for topic in topics}
    finally:
        await consumer.stop()


@pytest.mark.integration
def test_the_worker_topics_get_the_configured_partitions():
    with EmbeddedBroker() as broker:
        created = create_topics(broker.bootstrap, ["camguard"], Settings(partitions=8))
        assert created == [
            "parking.deadletter",
            "parking.events",
            "parking.occupancy",
            "raw.camguard",
        ]
        found = asyncio.run(partitions_of(broker.bootstrap, created))
        assert found == dict.fromkeys(created, 8)
        assert create_topics(broker.bootstrap, ["camguard"], Settings(partitions=8)) == []


def test_unreachable_kafka_is_reported_not_raised(capsys):
    assert create_topics("127.0.0.1:1", ["camguard"], Settings()) == []
    assert "could not create the topics on 127.0.0.1:1" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["worker"], ["status"], ["plugins", "list"]])
def test_an_invalid_setting_stops_any_command_with_its_name_not_a_traceback(command):
    import os
    import subprocess

    from tests.worker_process import VENV_BIN

    env = {**os.environ, "PARKFLOW_PARTITIONS": "eight", "PARKFLOW_INGEST_TOKEN": "t0ken,"}
    done = subprocess.run(
        [VENV_BIN / "parkflow", *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    said = " ".join(done.stderr.split())  # rich may wrap a long line
    assert "invalid setting PARKFLOW_PARTITIONS: Input should be a valid integer" in said
    assert "(got 'eight')" in said
    assert "invalid setting PARKFLOW_INGEST_TOKEN: an empty token" in said
    assert "t0ken" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("command", [["worker"], ["up"]])
def test_an_invalid_estate_stops_the_worker_and_up_before_they_start(command, tmp_path):
    import os
    import subprocess

    from tests.worker_process import VENV_BIN

    estate = tmp_path / "estate.yaml"
    estate.write_text(
        "facilities:\n  - {id: A, name: a, kind: gated, timezone: Mars/Olympus, capacity: 0}\n"
    )
    env = {**os.environ, "PARKFLOW_ESTATE": str(estate), "PARKFLOW_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [VENV_BIN / "parkflow", *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    said = " ".join(done.stderr.split())
    assert f"{estate}:2: facilities[0] (A).timezone: unknown time zone 'Mars/Olympus'" in said
    assert "capacity" in said  # every problem, not only the first
    assert "Traceback" not in done.stderr + done.stdout
