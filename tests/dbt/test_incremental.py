"""Incremental runs: the same tables as a full refresh of the same lake, for less work."""

import shutil
from datetime import timedelta

import duckdb
import pytest

from tests.dbt.conftest import LATE_BY, dbt

pytestmark = pytest.mark.slow

#: Columns that record the run (when, which invocation) rather than the data.
RUN_METADATA_PREFIX = "dbt_"


def comparable_columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The select list of a table without its run metadata, doubles rounded (a sum in another
    order differs in its last bits)."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'refreshed' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return ", ".join(
        f'round("{name}", 6)' if kind == "DOUBLE" else f'"{name}"'
        for name, kind in columns
        if not name.startswith(RUN_METADATA_PREFIX)
    )


def test_the_incremental_run_builds_the_tables_a_full_refresh_builds(warehouse, refreshed):
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{warehouse.path}' as incremental (read_only)")
        con.execute(f"attach '{refreshed}' as refreshed (read_only)")
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'refreshed' and table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        assert {"int_occupancy_hourly", "int_bay_stays", "mart_data_quality_daily"} <= set(tables)
        for table in tables:
            select = comparable_columns(con, table)
            one, other = (
                f'select {select} from {side}.main."{table}"'
                for side in ("incremental", "refreshed")
            )
            [(differing,)] = con.execute(
                f"select count(*) from "
                f"(({one} except all {other}) union all ({other} except all {one}))"
            ).fetchall()
            assert differing == 0, f"{table}: {differing} rows differ from a full refresh"


def test_a_new_version_dated_long_ago_in_event_time_still_replaces_the_held_one(warehouse):
    """The late payment's version (conftest.add_late_rows), landed last, of a session that
    ended on the first morning: read by its landing time, not its event time."""
    rows = warehouse.lake("sessions")
    late = max(rows, key=lambda s: s["landed_at"])
    newest_change = max(s["updated_at"] for s in rows)
    assert late["updated_at"] < newest_change - timedelta(hours=6)  # far behind in event time
    [(version, paid)] = warehouse.query(
        f"select version, amount_paid from stg_sessions where session_id = '{late['session_id']}'"
    )
    assert (version, paid) == (late["version"], late["amount_paid"])


def test_the_occupancy_sweep_redoes_the_hours_from_the_late_reports_on_only(warehouse):
    [(horizon,)] = warehouse.query("select horizon from int_data_horizon")
    [(hours, redone, oldest_redone)] = warehouse.query(
        "select count(*), count(*) filter (where redone), min(hour_start) filter (where redone) "
        "from (select *, dbt_loaded_at = max(dbt_loaded_at) over () as redone "
        "from int_occupancy_hourly)"
    )
    late_hour = (horizon - LATE_BY).replace(minute=0, second=0, microsecond=0)
    assert oldest_redone <= late_hour  # sessions closed in the new hour may reach further back
    assert 0 < redone < hours / 2


def test_a_model_that_redoes_history_asks_for_a_full_refresh_when_its_columns_change(
    warehouse, tmp_path
):
    """A table from before a change of columns (an upgrade): dbt stops with its message
    instead of mixing old rows with the new logic (`on_schema_change='fail'`)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "lake").symlink_to(warehouse.data_dir / "lake")
    shutil.copy(warehouse.path, data_dir / "warehouse.duckdb")
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute("alter table int_occupancy_hourly drop column dbt_loaded_at")
    results = dbt("build", data_dir, tmp_path, "--select", "int_occupancy_hourly", check=False)
    [result] = [r for r in results["results"] if r["unique_id"].endswith(".int_occupancy_hourly")]
    assert result["status"] == "error"
    assert "out of sync" in result["message"] and "full_refresh" in result["message"]
