"""Looking for clear licence plates in data: Parquet files, DuckDB databases, any text.

A plate is found whatever the case and the separators (`HT-101-P`, `ht 101 p`, `HT101P`),
inside base64 too (columns named `*_b64`, such as a dead letter's payload). A pseudonym
(20 hex characters) cannot be mistaken for a plate: a plate made of hex digits only is found
only as a whole token, others anywhere inside a run of letters, digits and separators.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from parkflow.plates import normalise_plate

_RUN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 .\t-]*[A-Za-z0-9])?")
_HEX = frozenset("0123456789ABCDEF")


@dataclass(frozen=True)
class Finding:
    """A plate seen in clear text: where, and which."""

    where: str
    plate: str


class PlateFinder:
    """Finds any of a set of (normalised) plates in text."""

    def __init__(self, plates: Iterable[str]) -> None:
        plates = {normalise_plate(p) for p in plates}
        self.hex_only = frozenset(p for p in plates if set(p) <= _HEX)
        self.others = frozenset(plates - self.hex_only)
        self.lengths = sorted({len(p) for p in self.others})

    def find(self, text: str) -> set[str]:
        """The plates in `text`."""
        found = set()
        for run in _RUN.findall(text):
            token = normalise_plate(run)
            if token in self.hex_only:
                found.add(token)
            for length in self.lengths:
                for start in range(len(token) - length + 1):
                    if token[start : start + length] in self.others:
                        found.add(token[start : start + length])
        return found


def _decoded(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("latin-1")
    except (binascii.Error, ValueError):
        return value


def _relation_values(con: duckdb.DuckDBPyConnection, relation: str) -> Iterator[tuple[str, str]]:
    """(column, distinct value as text) of every column of a table, view or Parquet file."""
    columns = [row[0] for row in con.execute(f"describe select * from {relation}").fetchall()]
    for column in columns:
        quoted = '"' + column.replace('"', '""') + '"'
        rows = con.execute(f"select distinct cast({quoted} as varchar) from {relation}").fetchall()
        for (value,) in rows:
            if value is not None:
                yield column, _decoded(value) if column.endswith("_b64") else value


def scan_parquet(finder: PlateFinder, path: Path) -> list[Finding]:
    """Plates in any column of one Parquet file."""
    found = []
    with duckdb.connect() as con:
        relation = "read_parquet('" + str(path).replace("'", "''") + "')"
        for column, value in _relation_values(con, relation):
            found += [Finding(f"{path} [{column}]", p) for p in finder.find(value)]
    return found


def scan_files(finder: PlateFinder, folder: Path) -> list[Finding]:
    """Plates in every file under `folder`: Parquet by column, anything else as bytes."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.read_bytes()[:4] == b"PAR1":
            found += scan_parquet(finder, path)
        else:
            text = path.read_bytes().decode("latin-1")
            found += [Finding(str(path), p) for p in finder.find(text)]
    return found


def scan_database(finder: PlateFinder, path: Path) -> tuple[list[Finding], int]:
    """Plates in any column of any table or view of a DuckDB database (opened read-only),
    and how many tables and views were read."""
    found = []
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
        for schema, table in relations:
            name = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, table))
            for column, value in _relation_values(con, name):
                found += [Finding(f"{schema}.{table} [{column}]", p) for p in finder.find(value)]
    return found, len(relations)
