"""The lake: where the streaming layer lands its rows, and the schemas dbt reads them with.

Layout under `<data dir>/lake/raw/`::

    <table>/date=YYYY-MM-DD/<uuid>.parquet

one folder per table (`TABLES`), Hive-partitioned by the UTC date of each row's
event time. Files are written under a temporary name and renamed, so a reader
never sees half a file; the writer is at-least-once (a crash can write a batch
twice), so every table has an id column that readers de-duplicate on.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from parkflow.events import EventBase, EventType, event_to_json
from parkflow.parsing import DeadLetter
from parkflow.records import AlertRecord, AnomalyRecord, SessionRecord

_TS = pa.timestamp("us", tz="UTC")
_MONEY = pa.decimal128(12, 2)

#: Canonical events, all types in one wide table (`event_type` says which columns apply).
#: A bay's state is `bay_occupied` (bool); a counting system's reading is `occupied` (int).
#: `received_at` is a lake column, not an event field: when the payload reached ParkFlow (the
#: worker's `received_time`, written by `received_suffix`), null where only `ingested_at` is
#: known (an import, a lake build).
EVENTS = pa.schema(
    [
        ("event_id", pa.string()), ("event_type", pa.string()), ("facility_id", pa.string()),
        ("device_id", pa.string()), ("ts", _TS), ("ingested_at", _TS), ("source", pa.string()),
        ("flags", pa.list_(pa.string())), ("received_at", _TS),
        ("plate", pa.string()), ("plate_confidence", pa.float64()), ("gate_id", pa.string()),
        ("lane", pa.string()), ("vehicle_type", pa.string()), ("image_url", pa.string()),
        ("transaction_id", pa.string()), ("amount", _MONEY), ("currency", pa.string()),
        ("method", pa.string()), ("status", pa.string()), ("paid_until", _TS),
        ("tenders", pa.list_(pa.struct([("method", pa.string()), ("amount", _MONEY)]))),
        ("purpose", pa.string()), ("failure_reason", pa.string()),
        ("zone_id", pa.string()), ("bay_id", pa.string()), ("bay_occupied", pa.bool_()),
        ("max_stay_minutes", pa.int64()), ("restricted_until", _TS), ("in_violation", pa.bool_()),
        ("occupied", pa.int64()), ("capacity", pa.int64()),
        ("voltage_v", pa.float64()), ("current_a", pa.float64()), ("power_w", pa.float64()),
        ("battery_pct", pa.float64()), ("temperature_c", pa.float64()), ("rssi_dbm", pa.float64()),
    ]
)  # fmt: skip

SESSIONS = pa.schema(
    [
        ("session_id", pa.string()), ("facility_id", pa.string()), ("plate", pa.string()),
        ("status", pa.string()), ("entry_event_id", pa.string()), ("entry_ts", _TS),
        ("entry_device_id", pa.string()), ("exit_event_id", pa.string()), ("exit_ts", _TS),
        ("exit_device_id", pa.string()), ("duration_s", pa.int64()), ("amount_paid", _MONEY),
        ("payments", pa.int64()), ("close_reason", pa.string()), ("version", pa.int64()),
        ("updated_at", _TS), ("landed_at", _TS),
    ]
)  # fmt: skip

ANOMALIES = pa.schema(
    [
        ("anomaly_id", pa.string()), ("anomaly_type", pa.string()), ("facility_id", pa.string()),
        ("event_id", pa.string()), ("event_type", pa.string()), ("plate", pa.string()),
        ("ts", _TS), ("detected_at", _TS), ("detail", pa.string()),
    ]
)  # fmt: skip

ALERTS = pa.schema(
    [
        ("alert_id", pa.string()), ("alert_type", pa.string()), ("severity", pa.string()),
        ("state", pa.string()), ("facility_id", pa.string()), ("subject_id", pa.string()),
        ("opened_at", _TS), ("resolved_at", _TS), ("ts", _TS), ("value", pa.float64()),
        ("detail", pa.string()), ("version", pa.int64()),
    ]
)  # fmt: skip

#: Dead letters, partitioned by `received_at`; `feed_time` (the newest event time its source
#: had parsed before it, None when none had) dates one as the events around it. Files from
#: before `feed_time` lack the column: readers take it as null (dbt: union_by_name).
DEADLETTER = pa.schema(
    [
        ("dead_letter_id", pa.string()), ("source", pa.string()), ("reason", pa.string()),
        ("payload_b64", pa.string()), ("payload_size", pa.int64()), ("received_at", _TS),
        ("feed_time", _TS),
        ("topic", pa.string()), ("partition", pa.int64()), ("offset", pa.int64()),
    ]
)  # fmt: skip

#: Lake tables: schema, and the column whose UTC date partitions the rows.
TABLES: dict[str, tuple[pa.Schema, str]] = {
    "events": (EVENTS, "ts"),
    "sessions": (SESSIONS, "entry_ts"),
    "anomalies": (ANOMALIES, "ts"),
    "alerts": (ALERTS, "opened_at"),
    "deadletter": (DEADLETTER, "received_at"),
}

_RENAMED = {EventType.BAY_STATUS: {"occupied": "bay_occupied"}}
#: The column the writer stamps with the wall-clock time a row landed (tables that have it).
LANDED_AT = "landed_at"


def event_row(event: EventBase) -> dict[str, Any]:
    """A canonical event as a row of the events table (the reference: `LakeWriter` reads the
    same rows from the events' JSON)."""
    row = event.model_dump()
    for old, new in _RENAMED.get(event.event_type, {}).items():
        row[new] = row.pop(old)
    return row


Record = SessionRecord | AnomalyRecord | AlertRecord | DeadLetter
#: Each record table's row of a record (events are read from their JSON: `EventLines`).
ROW_OF: dict[str, Callable[[Any], dict[str, Any]]] = {
    "sessions": SessionRecord.model_dump,
    "anomalies": AnomalyRecord.model_dump,
    "alerts": AlertRecord.model_dump,
    "deadletter": DeadLetter.model_dump,
}


def _rows_by_date(table: str, records: Iterable[Any]) -> dict[str, pa.Table]:
    """Records as rows (`ROW_OF`), one Arrow table per UTC date of the table's date column."""
    schema, date_column = TABLES[table]
    to_row = ROW_OF[table]
    # a versioned table's readers take the versions landed since their last run: by when
    # they landed, as a version's own times (event time) can be older than what they hold
    landed = {"landed_at": datetime.now(UTC)} if LANDED_AT in schema.names else {}
    by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        row = to_row(record) | landed
        moment: datetime = row[date_column]
        by_date[moment.strftime("%Y-%m-%d")].append(row)
    return {day: pa.Table.from_pylist(rows, schema=schema) for day, rows in by_date.items()}


#: The events table as pyarrow's JSON reader fills it from `event_to_json` lines: a bay's
#: `occupied` (bool) is read into `bay_occupied`'s place by a schema of its own.
_BAY_EVENTS = pa.schema(
    pa.field("occupied", pa.bool_()) if field.name == "bay_occupied" else field
    for field in EVENTS
    if field.name != "occupied"
)
_BAY_NAMES = _RENAMED[EventType.BAY_STATUS]
_COUNT_AT = EVENTS.get_field_index("occupied")
_COUNT = EVENTS.field(_COUNT_AT)
_READ_EVENTS = pa_json.ParseOptions(explicit_schema=EVENTS, unexpected_field_behavior="ignore")
_READ_BAY_EVENTS = pa_json.ParseOptions(
    explicit_schema=_BAY_EVENTS, unexpected_field_behavior="ignore"
)
_READ_SERIAL = pa_json.ReadOptions(use_threads=False, block_size=1 << 24)


def _events_table(block: bytes, *, bays: bool) -> pa.Table:
    """Events as JSON lines -> the events table, parsed in Arrow's C++ (without the GIL)."""
    table = pa_json.read_json(
        pa.BufferReader(block),
        read_options=_READ_SERIAL,
        parse_options=_READ_BAY_EVENTS if bays else _READ_EVENTS,
    )
    if not bays:
        return table
    table = table.rename_columns([_BAY_NAMES.get(name, name) for name in table.column_names])
    return table.add_column(_COUNT_AT, _COUNT, pa.nulls(table.num_rows, _COUNT.type))


def received_suffix(received_at: datetime) -> bytes:
    """The end of an event's JSON line that adds its lake column `received_at` (in place of the
    closing brace): one payload's events share it."""
    return b',"received_at":' + orjson.dumps(received_at, option=orjson.OPT_UTC_Z) + b"}"


class EventLines:
    """Canonical events as JSON lines, grouped as the events table's files are.

    A group is (UTC date of `ts`, bay event or not): the lines of each are parsed by
    pyarrow's JSON reader (`_events_table`), with the same result as `event_row`
    (tests/core/test_lake.py). The events are most of the lake's rows, and this costs a
    fraction of building rows or columns in Python. The normalize step fills it with the
    JSON it sends to Kafka anyway, so nothing is encoded twice; `joined()` is what
    `LakeWriter.write_event_lines` takes, and it pickles cheaply (a parser process builds it).
    """

    def __init__(self) -> None:
        self.groups: dict[tuple[str, bool], list[bytes]] = defaultdict(list)
        self.count = 0

    def add(self, event: EventBase, encoded: bytes | None = None, received: bytes = b"") -> None:
        """Add an event; `encoded` is its `event_to_json`, when the caller has it already;
        `received` its payload's `received_suffix` (b"": not known)."""
        day = event.ts.date().isoformat()
        line = event_to_json(event) if encoded is None else encoded
        if received:
            line = line[:-1] + received  # the object's closing brace is the suffix's
        self.groups[day, event.event_type is EventType.BAY_STATUS].append(line)
        self.count += 1

    def joined(self) -> dict[tuple[str, bool], bytes]:
        """Each group's lines as one newline-separated block."""
        return {group: b"\n".join(lines) for group, lines in self.groups.items()}


def _events_by_date(blocks: dict[tuple[str, bool], bytes]) -> dict[str, pa.Table]:
    """`EventLines.joined()` -> the events table, one Arrow table per UTC date of `ts`."""
    by_date: dict[str, list[pa.Table]] = defaultdict(list)
    for (day, bays), block in blocks.items():
        by_date[day].append(_events_table(block, bays=bays))
    return {day: pa.concat_tables(tables) for day, tables in by_date.items()}


def raw_dir(data_dir: Path) -> Path:
    """`<data dir>/lake/raw`."""
    return data_dir / "lake" / "raw"


def table_dir(data_dir: Path, table: str) -> Path:
    """The folder of one lake table."""
    return raw_dir(data_dir) / table


class LakeWriter:
    """Appends rows to the lake's tables: one Parquet file per table and date per call."""

    def __init__(self, data_dir: Path, *, compression: str = "zstd") -> None:
        self.data_dir = data_dir
        self.compression = compression

    def write(self, table: str, records: Iterable[Any]) -> list[Path]:
        """Append `records` (models of the table's kind) and return the files written."""
        if table == "events":
            lines = EventLines()
            for event in records:
                lines.add(event)
            return self.write_event_lines(lines.joined())
        return self._write_days(table, _rows_by_date(table, records))

    def write_event_lines(self, blocks: dict[tuple[str, bool], bytes]) -> list[Path]:
        """Append events given as `EventLines.joined()` and return the files written."""
        return self._write_days("events", _events_by_date(blocks))

    def _write_days(self, table: str, by_date: dict[str, pa.Table]) -> list[Path]:
        written = []
        for day, rows in sorted(by_date.items()):
            folder = table_dir(self.data_dir, table) / f"date={day}"
            written.append(self._write_file(folder, rows))
        return written

    def _write_file(self, folder: Path, rows: pa.Table) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.parquet"
        temporary = folder / f".{name}.tmp"
        pq.write_table(rows, temporary, compression=self.compression)
        final = folder / name
        os.replace(temporary, final)  # atomic: readers see the whole file or none
        return final


def table_files(data_dir: Path, table: str) -> list[Path]:
    """The Parquet files of a lake table, sorted (temporary files are hidden and not matched)."""
    return sorted(table_dir(data_dir, table).glob("date=*/*.parquet"))


def read_table(data_dir: Path, table: str) -> pa.Table:
    """Every row of a lake table (tests and small tools; dbt reads the files itself)."""
    schema = TABLES[table][0]
    files = table_files(data_dir, table)
    if not files:
        return schema.empty_table()
    return pa.concat_tables(pq.read_table(f, schema=schema) for f in files)
