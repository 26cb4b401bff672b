"""Agent state in memory, made durable through a Faust Table's changelog, once per batch.

The rule classes work on plain mappings. `DurableState` is one: a dict that
remembers which keys changed, and `flush()` writes each changed key to the
table's changelog once (not once per event: measured faster). After a restart
or rebalance, `rebuild()` reloads the dict from the recovered table.

Values are stored as JSON (`encode`, and `decode(key, json)`); each key's changelog partition
is the input partition its events came from (`owner` maps a key to the key whose
partition counts, e.g. every alert key of a device to the device).

The last changelog record of each partition is sent in a record batch of its
own: the embedded broker can report the end of a log as the first offset of its
last batch + 1, which would make table recovery stop early (ARCHITECTURE, Kafka).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Generic, TypeVar

import faust
import orjson

from parkflow.kafka import CHANGELOG_CONFIGS
from streaming.outbox import Outbox

V = TypeVar("V")
_MISSING: Any = object()
#: How a Faust table's `json` serializer writes keys and values (faust.utils.json with orjson).
_FAUST_JSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


def durable_table(app: faust.App, name: str, partitions: int) -> faust.Table:
    """A table used only as a changelog: str keys, JSON values, explicit topic configs."""
    return app.Table(name, partitions=partitions, extra_topic_configs=CHANGELOG_CONFIGS)


class DurableState(MutableMapping[str, V], Generic[V]):
    """A dict whose changes reach a changelog when flushed."""

    def __init__(
        self,
        table: faust.Table,
        *,
        encode: Callable[[V], Any] = lambda value: value,
        decode: Callable[[str, Any], V] = lambda key, value: value,
        owner: Callable[[str], str] = lambda key: key,
    ) -> None:
        self.table = table
        self.encode = encode
        self.decode = decode
        self.owner = owner
        self.data: dict[str, V] = {}
        self.changed: set[str] = set()
        self.partition_of: dict[str, int] = {}

    # --- the mapping the rules see -------------------------------------------------------

    def __getitem__(self, key: str) -> V:
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        """The value of `key`, or `default` (a dict's lookup: no KeyError raised and caught)."""
        return self.data.get(key, default)

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        """Remove `key` and return its value (or `default` when absent), as a dict does."""
        if key in self.data:
            self.changed.add(key)
            return self.data.pop(key)
        if default is _MISSING:
            raise KeyError(key)
        return default

    def __setitem__(self, key: str, value: V) -> None:
        self.data[key] = value
        self.changed.add(key)

    def __delitem__(self, key: str) -> None:
        del self.data[key]
        self.changed.add(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    # --- durability ----------------------------------------------------------------------

    def note_partition(self, key: str, partition: int) -> None:
        """Remember the input partition of `key` (its changelog partition)."""
        self.partition_of[key] = partition

    async def flush(self, app: faust.App) -> None:
        """Write every changed key to the changelog (deleted keys as tombstones)."""
        if not self.changed:
            return
        outbox = Outbox(app)
        last: dict[int, str] = {}
        for key in sorted(self.changed):
            partition = self.partition_of.get(self.owner(key))
            if partition is None:
                continue  # never seen on an input partition: nothing to make durable
            if partition in last:
                await self._send(outbox, last[partition], partition)
            last[partition] = key
        await outbox.flush()
        for partition, key in last.items():
            await self._send(outbox, key, partition)
        await outbox.flush()
        self.changed.clear()

    async def _send(self, outbox: Outbox, key: str, partition: int) -> None:
        """One changelog record, encoded exactly as the table's own `json` serializer would
        (tests/streaming/test_agent_plumbing.py compares the bytes), without its per-call
        overhead."""
        value = self.data.get(key)
        raw_value = None
        if value is not None:
            raw_value = orjson.dumps({"p": partition, "v": self.encode(value)}, option=_FAUST_JSON)
        topic = self.table.changelog_topic.get_topic_name()
        await outbox.send(topic, orjson.dumps(key, option=_FAUST_JSON), raw_value, partition)

    def rebuild(self) -> None:
        """Reload from the recovered table (after a restart or a rebalance)."""
        self.data.clear()
        self.changed.clear()
        self.partition_of.clear()
        for key, stored in self.table.data.items():
            if not stored:
                continue
            self.data[key] = self.decode(key, stored["v"])
            self.partition_of[self.owner(key)] = stored["p"]


class PrefixedView(MutableMapping[str, V], Generic[V]):
    """One of several mappings a rule class needs, stored in one `DurableState` by prefix."""

    def __init__(self, state: DurableState[Any], prefix: str) -> None:
        self.state = state
        self.prefix = prefix

    def __getitem__(self, key: str) -> V:
        return self.state[self.prefix + key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.prefix + key in self.state

    def get(self, key: str, default: Any = None) -> Any:
        """The value of `key`, or `default`."""
        return self.state.get(self.prefix + key, default)

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        """Remove `key` and return its value (or `default` when absent)."""
        return self.state.pop(self.prefix + key, default)

    def __setitem__(self, key: str, value: V) -> None:
        self.state[self.prefix + key] = value

    def __delitem__(self, key: str) -> None:
        del self.state[self.prefix + key]

    def __iter__(self) -> Iterator[str]:
        n = len(self.prefix)
        return (key[n:] for key in list(self.state.data) if key.startswith(self.prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self)
