"""Every topic the worker reads or writes, declared once. Keys and values are bytes we encode
and decode ourselves (orjson / pydantic), which measured faster than Faust's codecs; the
`RawBytes` schema hands them to the agents as they are (`streaming/lean.py`)."""

from __future__ import annotations

from parkflow.kafka import DEADLETTER_TOPIC, EVENTS_TOPIC, OCCUPANCY_TOPIC, TOPIC_CONFIGS, raw_topic
from streaming.app import app, plugins
from streaming.lean import RawBytes


def _topic(*names: str):
    schema = RawBytes(key_serializer="raw", value_serializer="raw")
    return app.topic(*names, schema=schema, config=TOPIC_CONFIGS)


raw = _topic(*(raw_topic(name) for name in plugins.names()))
events = _topic(EVENTS_TOPIC)
deadletter = _topic(DEADLETTER_TOPIC)
occupancy = _topic(OCCUPANCY_TOPIC)  # entries, exits, bays and counts, keyed by facility
