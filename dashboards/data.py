"""Read the published marts (`<data dir>/marts/<mart>.parquet`) with DuckDB, for the pages.

Every query is parameterised: filter values travel as `$name` parameters, never inside the
SQL text. Results are cached per (SQL, parameters, mart file versions): a new publication of
a mart (Dagster replaces the file atomically, so its mtime, size or inode changes) makes the
next query read it again. The warehouse is never opened.

One in-memory DuckDB database per folder holds a view per mart (`read_parquet` of its file,
read again by every query); each query runs on a cursor of it. Opening a fresh connection per
query cost 25-60 ms on the 2-core machine, more than most queries themselves (~5 ms).
"""

from __future__ import annotations

import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from parkflow.settings import load_settings

#: Names the SQL of a page may read: each one is `marts/<name>.parquet`.
MART_NAME = re.compile(r"\b((?:mart|fct|dim)_[a-z0-9_]+)\b")
PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

Param = str | int | float | bool | date | datetime | None
FileVersion = tuple[str, int, int, int]  # name, mtime_ns, size, inode (0s when missing)


class MartMissing(LookupError):
    """A mart the query reads has not been published yet."""


class Marts:
    """Cached, parameterised, read-only queries over the published marts of one folder."""

    def __init__(self, folder: Path, max_entries: int = 256) -> None:
        self.folder = Path(folder)
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0  # queries actually run (tests and benchmarks read it)
        self._database: duckdb.DuckDBPyConnection | None = None
        self._views: dict[str, FileVersion] = {}  # the file version each view was made for
        self._views_lock = threading.Lock()

    def path(self, mart: str) -> Path:
        """Where the published mart lives."""
        return self.folder / f"{mart}.parquet"

    def version(self, mart: str) -> FileVersion:
        """What identifies one publication of a mart (all zeros when it is missing)."""
        try:
            stat = self.path(mart).stat()
        except FileNotFoundError:
            return (mart, 0, 0, 0)
        return (mart, stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def available(self, mart: str) -> bool:
        """Whether the mart has been published."""
        return self.path(mart).is_file()

    def query(self, sql: str, params: Mapping[str, Param] | None = None) -> pd.DataFrame:
        """The result of `sql` (marts named in it are views) with `$params` bound.

        Only the parameters the SQL names are bound, so a page can pass all its filters to
        every query. Raises `MartMissing` when a mart it reads is not published. The frame
        returned is a copy: callers may change it.
        """
        used = set(PARAMETER.findall(sql))
        params = {name: value for name, value in (params or {}).items() if name in used}
        marts = sorted(set(MART_NAME.findall(sql)))
        versions = tuple(self.version(mart) for mart in marts)
        missing = [v[0] for v in versions if v[1:] == (0, 0, 0)]
        if missing:
            raise MartMissing(", ".join(missing))
        key = (sql, tuple(sorted(params.items())), versions)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key].copy()
        frame = self._run(sql, params, versions)
        with self._lock:
            self.misses += 1
            # drop what older publications of these marts produced
            for stale in [k for k in self._cache if _outdated(k[2], versions)]:
                del self._cache[stale]
            self._cache[key] = frame
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return frame.copy()

    def frame(self, sql: str, params: Mapping[str, Param] | None = None) -> pd.DataFrame:
        """Like `query`, but an unpublished mart gives an empty frame (the pages' empty state)."""
        try:
            return self.query(sql, params)
        except MartMissing:
            return pd.DataFrame()

    def _run(
        self, sql: str, params: dict[str, Param], versions: tuple[FileVersion, ...]
    ) -> pd.DataFrame:
        with self._cursor(versions) as con, warnings.catch_warnings():
            # DuckDB's timestamptz conversion calls a pandas API pandas 3 deprecates
            warnings.filterwarnings("ignore", message="The inplace keyword")
            return con.execute(sql, params).df()

    def _cursor(self, versions: tuple[FileVersion, ...]) -> duckdb.DuckDBPyConnection:
        """A cursor on the folder's database, with a view of each mart's current file."""
        with self._views_lock:
            if self._database is None:
                self._database = duckdb.connect(config={"threads": 2})
                self._database.execute("set global TimeZone = 'UTC'")
            for version in versions:
                mart = version[0]
                if self._views.get(mart) != version:  # new, or republished (maybe new columns)
                    # the relational API takes the path as a value: no SQL text is built from it
                    self._database.read_parquet(str(self.path(mart))).create_view(mart)
                    self._views[mart] = version
            return self._database.cursor()


def _outdated(cached: tuple[FileVersion, ...], current: tuple[FileVersion, ...]) -> bool:
    """Whether a cached entry read a mart of which `current` holds a newer publication."""
    newest = {v[0]: v for v in current}
    return any(v[0] in newest and v != newest[v[0]] for v in cached)


def marts_folder() -> Path:
    """`<data dir>/marts` of the current settings."""
    return load_settings().data_dir.resolve() / "marts"


@cache
def _store(folder: Path) -> Marts:
    return Marts(folder)


def default_marts() -> Marts:
    """The process-wide store of the configured data dir (shared by every browser session)."""
    return _store(marts_folder())
