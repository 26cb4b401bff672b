"""Every topic the worker reads or writes, declared once. Values are bytes we encode ourselves
(orjson / pydantic), which measured faster than Faust's codecs."""

from __future__ import annotations

from parkflow.kafka import DEADLETTER_TOPIC, EVENTS_TOPIC, OCCUPANCY_TOPIC, TOPIC_CONFIGS, raw_topic
from streaming.app import app, plugins


def _topic(*names: str):
    return app.topic(*names, key_serializer="raw", value_serializer="raw", config=TOPIC_CONFIGS)


raw = _topic(*(raw_topic(name) for name in plugins.names()))
events = _topic(EVENTS_TOPIC)
deadletter = _topic(DEADLETTER_TOPIC)
occupancy = _topic(OCCUPANCY_TOPIC)  # entries, exits, bays and counts, keyed by facility
