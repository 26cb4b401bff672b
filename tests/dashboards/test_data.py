"""The data-access module: parameterised reads of published marts, cached per file version."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dashboards.data import MartMissing, Marts

SQL = """
select facility_id, sum(revenue) as revenue
from mart_revenue_daily
where ($facility::varchar is null or facility_id = $facility)
  and local_date between $start and $end
group by facility_id
order by facility_id
"""
ALL_WEEK = {"facility": None, "start": date(2026, 11, 2), "end": date(2026, 11, 8)}


def publish(folder: Path, rows: list[tuple[str, str, float]]) -> Path:
    """A tiny `mart_revenue_daily.parquet` (facility, local date, revenue)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mart_revenue_daily.parquet"
    with duckdb.connect() as con:
        con.execute("create table t (facility_id varchar, local_date date, revenue double)")
        if rows:
            con.executemany("insert into t values (?, ?, ?)", rows)
        con.table("t").write_parquet(str(path))
    return path


@pytest.fixture
def marts(tmp_path: Path) -> Marts:
    publish(
        tmp_path,
        [
            ("A", "2026-11-02", 10.0),
            ("A", "2026-11-03", 5.0),
            ("B", "2026-11-02", 7.5),
            ("B", "2026-11-20", 100.0),
        ],
    )
    return Marts(tmp_path)


def test_filters_are_bound_as_parameters(marts):
    everything = marts.query(SQL, ALL_WEEK)
    assert everything.to_dict("records") == [
        {"facility_id": "A", "revenue": 15.0},
        {"facility_id": "B", "revenue": 7.5},
    ]
    one = marts.query(SQL, ALL_WEEK | {"facility": "B"})
    assert one["revenue"].tolist() == [7.5]


def test_parameters_the_query_does_not_name_are_ignored(marts):
    result = marts.query("select count(*) as n from mart_revenue_daily", ALL_WEEK)
    assert result["n"].tolist() == [4]


@pytest.mark.parametrize(
    "hostile",
    [
        "A' OR '1'='1",
        "A'; drop table t; --",
        "') union select 'x', 1e9 --",
        "'; copy (select 1) to '/tmp/pwned-by-filter.csv'; --",
    ],
)
def test_a_hostile_filter_value_is_only_a_value(marts, hostile, tmp_path):
    before = (tmp_path / "mart_revenue_daily.parquet").read_bytes()
    assert marts.query(SQL, ALL_WEEK | {"facility": hostile}).empty
    assert (tmp_path / "mart_revenue_daily.parquet").read_bytes() == before
    assert not Path("/tmp/pwned-by-filter.csv").exists()
    assert len(marts.query(SQL, ALL_WEEK)) == 2


def test_results_are_cached_until_the_file_changes(marts, tmp_path):
    marts.query(SQL, ALL_WEEK)
    marts.query(SQL, ALL_WEEK)
    assert marts.misses == 1
    marts.query(SQL, ALL_WEEK | {"facility": "A"})
    assert marts.misses == 2  # other parameters, another entry

    # Dagster publishes a new version (write, then rename over the old file)
    path = publish(tmp_path / "next", [("A", "2026-11-02", 99.0)])
    os.replace(path, tmp_path / "mart_revenue_daily.parquet")
    assert marts.query(SQL, ALL_WEEK)["revenue"].tolist() == [99.0]
    assert marts.misses == 3


def test_a_touched_file_is_read_again(marts, tmp_path):
    marts.query(SQL, ALL_WEEK)
    path = tmp_path / "mart_revenue_daily.parquet"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    marts.query(SQL, ALL_WEEK)
    assert marts.misses == 2


def test_entries_of_an_older_publication_are_dropped(marts, tmp_path):
    marts.query(SQL, ALL_WEEK)
    marts.query(SQL, ALL_WEEK | {"facility": "A"})
    path = tmp_path / "mart_revenue_daily.parquet"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    marts.query(SQL, ALL_WEEK)
    assert len(marts._cache) == 1


def test_callers_get_a_copy(marts):
    first = marts.query(SQL, ALL_WEEK)
    first.loc[0, "revenue"] = -1
    assert marts.query(SQL, ALL_WEEK)["revenue"].tolist() == [15.0, 7.5]


def test_an_empty_mart_gives_an_empty_frame(tmp_path):
    publish(tmp_path, [])
    marts = Marts(tmp_path)
    result = marts.query(SQL, ALL_WEEK)
    assert result.empty
    assert list(result.columns) == ["facility_id", "revenue"]


def test_an_unpublished_mart_is_missing_not_an_error(tmp_path):
    marts = Marts(tmp_path)
    with pytest.raises(MartMissing, match="mart_revenue_daily"):
        marts.query(SQL, ALL_WEEK)
    assert marts.frame(SQL, ALL_WEEK).empty
    assert not marts.available("mart_revenue_daily")


def test_the_cache_is_bounded(tmp_path):
    publish(tmp_path, [("A", "2026-11-02", 1.0)])
    marts = Marts(tmp_path, max_entries=3)
    for facility in "ABCDE":
        marts.query(SQL, ALL_WEEK | {"facility": facility})
    assert len(marts._cache) == 3


def test_the_warehouse_is_never_opened(marts, tmp_path, monkeypatch):
    opened: list[object] = []
    real_connect = duckdb.connect

    def spy(database: object = ":memory:", *args: object, **kwargs: object):
        opened.append(database)
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", spy)
    marts.query(SQL, ALL_WEEK)
    assert opened and all(db in (":memory:", "") for db in opened)


def test_a_republished_mart_with_new_columns_is_read_as_it_is_now(marts, tmp_path):
    assert marts.query(SQL, ALL_WEEK)["revenue"].tolist() == [15.0, 7.5]
    # a later dbt model adds a column: the next publication has it
    path = tmp_path / "next" / "mart_revenue_daily.parquet"
    path.parent.mkdir()
    with duckdb.connect() as con:
        con.execute(
            "copy (select 'A' as facility_id, date '2026-11-02' as local_date, 3.0 as revenue, "
            "'EUR' as currency) to '" + str(path) + "' (format parquet)"
        )
    os.replace(path, tmp_path / "mart_revenue_daily.parquet")
    result = marts.query(
        "select currency, sum(revenue) as revenue from mart_revenue_daily group by 1"
    )
    assert result.to_dict("records") == [{"currency": "EUR", "revenue": 3.0}]


def test_queries_from_several_threads_share_one_database(marts):
    facilities = ["A", "B"] * 8
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda f: marts.query(SQL, ALL_WEEK | {"facility": f}), facilities))
    assert [r["revenue"].tolist() for r in results] == [[15.0], [7.5]] * 8
