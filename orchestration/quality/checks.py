"""Data-quality checks on the warehouse, as plain functions (no Dagster).

Each check takes a DuckDB connection (open the warehouse read-only: see `connection.py`),
reads a small dataframe, validates it with a Great Expectations suite (`suites.py`) and returns
a `CheckOutcome`: passed or not, its severity, a sentence, and metadata with numbers and the
failing rows as a markdown table (at most 20 rows, naming ids, facility and hour).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import duckdb
import pandas as pd

from orchestration.quality import suites
from orchestration.quality.gx import Validation, validate
from orchestration.quality.report import markdown_table, mask_plate

Severity = Literal["ERROR", "WARN"]
DEFAULT_DEAD_LETTER_THRESHOLD = 0.10
UNUSABLE_FEED_SHARE = 0.25  # a vendor-day losing this share of its payloads is not usable
#: ... when it lost at least this many: a few bad rows of a small day are shown (the WARN
#: dead-letter share), not a reason to hold a facility's numbers back
UNUSABLE_FEED_MIN_DEAD_LETTERS = 20
DEFAULT_DUPLICATE_THRESHOLD = 0.10
DEFAULT_FRESHNESS = timedelta(hours=6)  # dbt's source freshness errors after 6 h as well
#: Metadata key of a failed check (and of a publication): the facilities it holds back.
HELD_FACILITIES = "held_facilities"


@dataclass(frozen=True)
class CheckOutcome:
    """What a check found. `metadata["failing_rows"]` is a markdown table when it failed.

    `facilities`: when the failure is about rows of some facilities only, those facilities
    (the publish step holds back their rows and publishes the others'); None when it is not.
    """

    passed: bool
    severity: Severity
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)
    facilities: tuple[str, ...] | None = None


def frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> pd.DataFrame:
    """The result of `sql` as a dataframe.

    DuckDB 2.0 converts timestamptz columns with a pandas call that pandas 3.1 deprecates
    (`drop(inplace=True)`); that warning is about DuckDB's code, not ours, so it is silenced here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop")
        return con.execute(sql, params).df()


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    sql = "select count(*) from information_schema.tables where table_name = ?"
    row = con.execute(sql, [table]).fetchone()
    return bool(row and row[0])


def _varchar_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    sql = (
        "select column_name from information_schema.columns"
        " where table_name = ? and data_type = 'VARCHAR' order by ordinal_position"
    )
    return [r[0] for r in con.execute(sql, [table]).fetchall()]


def _missing(table: str, severity: Severity) -> CheckOutcome:
    return CheckOutcome(False, severity, f"Table {table} does not exist in the warehouse.")


def _failures(validation: Validation) -> str:
    """The failed expectations with their counts (or observed values, for table-level ones)."""
    parts = []
    for r in validation.failed:
        if r.exception:
            parts.append(f"{r.label}: could not run ({r.exception[:200]})")
        elif r.column or r.observed_value is None:
            parts.append(f"{r.label}: {r.unexpected_count}")
        else:
            parts.append(f"{r.label}: observed {r.observed_value}")
    return ", ".join(parts)


def _outcome(
    validation: Validation,
    severity: Severity,
    ok: str,
    failed: str,
    metadata: dict[str, Any],
    failing_rows: pd.DataFrame | None = None,
    *,
    by_facility: bool = False,
) -> CheckOutcome:
    """A CheckOutcome from a validation; `failing_rows` defaults to GX's sample.

    `by_facility`: the failing rows (all of them: validate with a sample of the whole frame)
    name the facilities the failure holds back.
    """
    metadata = {"suite": validation.suite_name, **metadata}
    if validation.success:
        return CheckOutcome(True, severity, ok, metadata)
    rows = validation.unexpected_rows if failing_rows is None else failing_rows
    metadata["failed_expectations"] = _failures(validation)
    metadata["failing_values"] = validation.unexpected_count
    metadata["failing_rows"] = markdown_table(rows)
    facilities = None
    if by_facility and "facility_id" in rows.columns and len(rows):
        facilities = tuple(sorted(set(rows["facility_id"].dropna().astype(str))))
        metadata[HELD_FACILITIES] = ", ".join(facilities)
    return CheckOutcome(False, severity, failed, metadata, facilities)


def row_count(
    con: duckdb.DuckDBPyConnection, table: str, severity: Severity = "ERROR"
) -> CheckOutcome:
    """The table has at least one row."""
    if not _table_exists(con, table):
        return _missing(table, severity)
    rows = con.execute(f'select count(*) from "{table}"').fetchone()[0]
    sample = frame(con, f'select 1 as one from "{table}" limit 1')
    validation = validate(sample, f"{table}.has_rows", suites.has_rows())
    return _outcome(
        validation, severity, f"{table} has {rows} rows.", f"{table} is empty.", {"rows": rows}
    )


def _rates_in_range(
    con: duckdb.DuckDBPyConnection, table: str, period: str, metadata: dict[str, Any]
) -> CheckOutcome:
    """Rows of an occupancy mart (one per subject and `period`, e.g. "hour_start_utc,
    hour_start_local") with occupancy_rate outside 0..1 or a peak above capacity."""
    unit = "hours" if table.endswith("hourly") else "days"
    df = frame(
        con,
        f"""
        select subject_id, facility_id, facility_kind, {period}, capacity, peak_occupied,
               occupancy_rate
        from {table} where occupancy_rate is not null
        order by subject_id, {period.split(",")[0]}
        """,
    )
    validation = validate(
        df, f"{table}.occupancy_rate_in_range", suites.occupancy_in_range(), sample_size=len(df)
    )
    return _outcome(
        validation,
        "ERROR",
        f"All {len(df)} {unit} have occupancy_rate in 0..1 and peak <= capacity.",
        f"{unit.capitalize()} with occupancy_rate outside 0..1 or peak above capacity: "
        f"{_failures(validation)}.",
        {f"{unit}_checked": len(df), **metadata},
        by_facility=True,
    )


def occupancy_rate_in_range(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Hours of mart_occupancy_hourly with occupancy_rate outside 0..1 or a peak above capacity.

    Flagged count readings (below zero or above capacity; kept as received by design) are
    already left out of the rates where they hold, so no hour is exempt; the hours without a
    rate (wholly under flagged readings) and the flagged seconds are counted in the metadata.
    """
    table = "mart_occupancy_hourly"
    if not _table_exists(con, table):
        return _missing(table, "ERROR")
    without_rate, flagged_seconds, clipped, top = con.execute(
        f"""
        select
            count(*) filter (where occupancy_rate is null),
            coalesce(sum(flagged_seconds), 0),
            count(*) filter (where facility_kind = 'gated' and raw_peak_occupied > capacity),
            max(occupancy_rate)
        from {table}
        """
    ).fetchone()
    metadata = {
        "max_occupancy_rate": float(top) if top is not None else None,
        "hours_without_rate_all_flagged": int(without_rate),
        "flagged_seconds_left_out": float(flagged_seconds),
        "gated_hours_clipped_to_capacity": int(clipped),
    }
    return _rates_in_range(con, table, "hour_start_utc, hour_start_local", metadata)


def daily_occupancy_rate_in_range(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Days of mart_occupancy_daily with occupancy_rate outside 0..1 or a peak above capacity."""
    table = "mart_occupancy_daily"
    if not _table_exists(con, table):
        return _missing(table, "ERROR")
    return _rates_in_range(con, table, "local_date", {})


_MISSING_HOURS = """
with bounds as (
    select subject_id, any_value(facility_id) as facility_id, any_value(zone_id) as zone_id,
           min(hour_start_utc) as first_hour, max(hour_start_utc) as last_hour
    from mart_occupancy_hourly group by subject_id
),
expected as (
    select subject_id, facility_id, zone_id,
           unnest(generate_series(first_hour, last_hour, interval 1 hour)) as hour_start_utc
    from bounds
)
select e.subject_id, e.facility_id, e.zone_id, e.hour_start_utc
from expected e
anti join mart_occupancy_hourly m using (subject_id, hour_start_utc)
order by e.subject_id, e.hour_start_utc
"""


def hourly_series_complete(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every facility and zone of mart_occupancy_hourly has each hour from its first to its last."""
    table = "mart_occupancy_hourly"
    if not _table_exists(con, table):
        return _missing(table, "ERROR")
    missing = frame(con, _MISSING_HOURS)
    subjects = con.execute(f"select count(distinct subject_id) from {table}").fetchone()[0]
    validation = validate(missing, f"{table}.hourly_series_complete", suites.no_rows())
    gappy = missing["subject_id"].nunique() if len(missing) else 0
    return _outcome(
        validation,
        "ERROR",
        f"No missing hour in the series of {subjects} facilities and zones.",
        f"{len(missing)} missing hour(s) in {gappy} of {subjects} facilities and zones.",
        {"subjects": subjects, "missing_hours": len(missing), "subjects_with_gaps": gappy},
        failing_rows=missing,
    )


def no_negative_takings(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """No negative gross revenue, refunds, amount due or leakage in mart_revenue_daily.

    Net revenue (takings - refunds) is not checked: on a day when refunds of earlier takings
    exceed the day's takings (a meter's refund day) it is rightly negative.
    """
    table = "mart_revenue_daily"
    if not _table_exists(con, table):
        return _missing(table, "ERROR")
    columns = ["gross_revenue", "refunds", "amount_due", "leakage"]
    casts = ", ".join(f"cast({c} as double) as {c}" for c in columns)
    df = frame(
        con,
        f"select facility_id, local_date, payment_method, cast(revenue as double) as revenue,"
        f" {casts} from {table} order by facility_id, local_date, payment_method",
    )
    validation = validate(
        df, f"{table}.no_negative_amounts", suites.not_negative(columns), sample_size=len(df)
    )
    return _outcome(
        validation,
        "ERROR",
        f"No negative takings, refunds, amount due or leakage in {len(df)} facility-day-method "
        "rows.",
        f"Negative amounts: {_failures(validation)}.",
        {"rows_checked": len(df), "min_revenue": float(df["revenue"].min()) if len(df) else None},
        by_facility=True,
    )


def no_negative_session_amounts(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """No negative amount_due, amount_paid or leakage in fct_parking_sessions."""
    table = "fct_parking_sessions"
    if not _table_exists(con, table):
        return _missing(table, "ERROR")
    columns = ["amount_due", "amount_paid", "leakage"]
    casts = ", ".join(f"cast({c} as double) as {c}" for c in columns)
    df = frame(
        con,
        f"select session_id, facility_id, status, entry_ts, {casts} from {table}"
        f" where {' or '.join(f'{c} is not null' for c in columns)} order by entry_ts, session_id",
    )
    validation = validate(
        df, f"{table}.no_negative_amounts", suites.not_negative(columns), sample_size=len(df)
    )
    return _outcome(
        validation,
        "ERROR",
        f"No negative amount in {len(df)} sessions.",
        f"Sessions with negative amounts: {_failures(validation)}.",
        {"sessions_checked": len(df)},
        by_facility=True,
    )


def dead_letter_share(
    con: duckdb.DuckDBPyConnection, threshold: float = DEFAULT_DEAD_LETTER_THRESHOLD
) -> CheckOutcome:
    """Every vendor's daily dead-letter share (mart_data_quality_daily) is below `threshold`."""
    table = "mart_data_quality_daily"
    if not _table_exists(con, table):
        return _missing(table, "WARN")
    df = frame(
        con,
        f"select date, source, events, dead_letters, dead_letter_share from {table}"
        " order by date, source",
    )
    validation = validate(
        df, f"{table}.dead_letter_share", suites.share_below("dead_letter_share", threshold)
    )
    worst = float(df["dead_letter_share"].max()) if len(df) else None
    return _outcome(
        validation,
        "WARN",
        f"Every vendor-day has a dead-letter share below {threshold:.0%} (worst {worst or 0:.2%}).",
        f"{validation.unexpected_count} vendor-day(s) at or above {threshold:.0%} dead letters.",
        {"vendor_days": len(df), "threshold": threshold, "max_dead_letter_share": worst},
    )


def duplicate_share(
    con: duckdb.DuckDBPyConnection, threshold: float = DEFAULT_DUPLICATE_THRESHOLD
) -> CheckOutcome:
    """Every vendor-day of mart_data_quality_daily has under `threshold` duplicate rows.

    Duplicates are removed by event id before any mart counts them, so a flood does not change
    the numbers; it shows a device or gateway re-sending in a loop, which needs attention.
    """
    table = "mart_data_quality_daily"
    if not _table_exists(con, table):
        return _missing(table, "WARN")
    df = frame(
        con,
        f"""
        select date, source, rows_landed, duplicate_rows,
               coalesce(duplicate_rows / nullif(rows_landed, 0), 0)::double as duplicate_share
        from {table} order by date, source
        """,
    )
    validation = validate(
        df, f"{table}.duplicate_share", suites.share_below("duplicate_share", threshold)
    )
    worst = float(df["duplicate_share"].max()) if len(df) else 0.0
    return _outcome(
        validation,
        "WARN",
        f"Every vendor-day has under {threshold:.0%} duplicate rows (worst {worst:.2%}).",
        f"{validation.unexpected_count} vendor-day(s) flooded with duplicates "
        f"(>= {threshold:.0%} of rows landed twice; removed before the marts).",
        {"vendor_days": len(df), "threshold": threshold, "max_duplicate_share": worst},
    )


_UNUSABLE_FEEDS = """
with shares as (
    select date, source, dead_letters, events, dead_letter_share
    from mart_data_quality_daily where dead_letter_share >= ? and dead_letters >= ?
),
-- the facilities the vendor fed that day: their numbers of the day are the incomplete ones
fed as (select distinct source, lake_date as date, facility_id from stg_events)
select s.date, s.source, f.facility_id, s.events, s.dead_letters, s.dead_letter_share
from shares s join fed f using (source, date)
where f.facility_id in (select facility_id from {table})
order by s.date, s.source, f.facility_id
"""


def vendor_feeds_usable(
    con: duckdb.DuckDBPyConnection,
    table: str,
    threshold: float = UNUSABLE_FEED_SHARE,
    min_dead_letters: int = UNUSABLE_FEED_MIN_DEAD_LETTERS,
) -> CheckOutcome:
    """No facility in `table` was fed on a day by a vendor that lost `threshold` or more of
    that day's payloads (and at least `min_dead_letters` of them).

    A vendor whose plugin rejects a quarter of its payloads (garbage, a firmware change) leaves
    the counts and revenue of the facilities it fed that day too low: they are held back.
    """
    for needed in (table, "mart_data_quality_daily", "stg_events"):
        if not _table_exists(con, needed):
            return _missing(needed, "ERROR")
    df = frame(con, _UNUSABLE_FEEDS.format(table=table), [threshold, min_dead_letters])
    validation = validate(df, f"{table}.vendor_feeds_usable", suites.no_rows())
    return _outcome(
        validation,
        "ERROR",
        f"No facility of {table} is fed by a vendor-day with >= {threshold:.0%} dead letters.",
        f"{df['source'].nunique()} vendor(s) lost >= {threshold:.0%} of their payloads on "
        f"{df['date'].nunique()} day(s): the numbers of {df['facility_id'].nunique()} "
        "facility(ies) are incomplete.",
        {
            "threshold": threshold,
            "min_dead_letters": min_dead_letters,
            "facility_days": len(df),
        },
        failing_rows=df,
        by_facility=True,
    )


def session_durations_possible(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """CLOSED sessions of fct_parking_sessions last between 0 and their facility's max stay.

    The matcher closes no session after the max stay of its facility (the estate's
    `max_stay_hours`; it is ABANDONED then), so a longer or a negative duration is a clock or
    matching defect that would distort dwell and revenue.
    """
    table = "fct_parking_sessions"
    for needed in (table, "facilities"):
        if not _table_exists(con, needed):
            return _missing(needed, "ERROR")
    df = frame(
        con,
        f"""
        select s.session_id, s.facility_id, s.entry_ts, s.exit_ts,
               s.duration_s::double as duration_s, f.max_stay_hours,
               s.duration_s / (f.max_stay_hours * 3600.0) as share_of_max_stay
        from {table} as s
        left join facilities as f on f.facility_id = s.facility_id
        where s.status = 'CLOSED' order by s.entry_ts, s.session_id
        """,
    )
    validation = validate(
        df,
        f"{table}.durations_possible",
        suites.between("share_of_max_stay", 0, 1),
        sample_size=len(df),
    )
    return _outcome(
        validation,
        "ERROR",
        f"All {len(df)} closed sessions last between 0 and their facility's max stay.",
        f"Closed sessions with an impossible duration: {_failures(validation)}.",
        {"sessions_checked": len(df)},
        by_facility=True,
    )


def events_fresh(
    con: duckdb.DuckDBPyConnection,
    reference: datetime,
    max_age: timedelta = DEFAULT_FRESHNESS,
) -> CheckOutcome:
    """The newest event of stg_events is at most `max_age` older than `reference` (aware)."""
    if reference.tzinfo is None:
        raise ValueError("reference must be timezone-aware")
    table = "stg_events"
    if not _table_exists(con, table):
        return _missing(table, "WARN")
    df = frame(
        con,
        f"select max(ts) as newest_event, count(*) as events,"
        f" epoch(cast(? as timestamptz)) - epoch(max(ts)) as age_seconds from {table}",
        [reference],
    )
    df["age_hours"] = df["age_seconds"] / 3600
    hours = max_age / timedelta(hours=1)
    validation = validate(df, f"{table}.events_fresh", suites.fresh("age_hours", hours))
    newest = df["newest_event"].iloc[0]
    age = df["age_hours"].iloc[0]
    metadata = {
        "newest_event": None if pd.isna(newest) else newest.isoformat(),
        "reference_time": reference.isoformat(),
        "age_hours": None if pd.isna(age) else round(float(age), 2),
        "max_age_hours": hours,
    }
    if pd.isna(newest):
        failed = f"{table} holds no event."
    else:
        failed = f"The newest event is {age:.1f} h old (more than {hours:g} h)."
    return _outcome(
        validation,
        "WARN",
        f"The newest event is {age:.1f} h old (at most {hours:g} h).",
        failed,
        metadata,
        failing_rows=df[["newest_event", "events", "age_hours"]],
    )


def plates_pseudonymised(
    con: duckdb.DuckDBPyConnection,
    table: str,
    id_columns: list[str],
    *,
    scan_text_columns: bool = False,
) -> CheckOutcome:
    """No clear plate in `table`: every `plate*` text column holds 20-hex-character hashes.

    With `scan_text_columns`, every other text column is also searched for values that look
    like a clear, normalised plate (letters and digits, 4-10 characters). Plates in the
    metadata are masked (AB****) so the check does not spread them.
    """
    if not _table_exists(con, table):
        return _missing(table, "ERROR")
    text = _varchar_columns(con, table)
    plates = [c for c in text if c.startswith("plate")]
    metadata: dict[str, Any] = {"plate_columns": ", ".join(plates) or "none"}
    failures: list[str] = []
    tables: list[str] = []
    if plates:
        cols = ", ".join(f'"{c}"' for c in [*id_columns, *plates])
        where = " or ".join(f'"{c}" is not null' for c in plates)
        df = frame(con, f'select {cols} from "{table}" where {where}')
        validation = validate(df, f"{table}.plates_hashed", suites.plates_hashed(plates))
        metadata["plates_checked"] = len(df)
        if not validation.success:
            rows = validation.unexpected_rows.copy()
            for column in plates:
                rows[column] = rows[column].map(mask_plate)
            failures.append(_failures(validation))
            tables.append(markdown_table(rows))
    others = [c for c in text if c not in plates] if scan_text_columns else []
    if others:
        df = _distinct_text_values(con, table, others)
        validation = validate(df, f"{table}.no_clear_plates", suites.no_clear_plates("value"))
        metadata["text_values_scanned"] = len(df)
        if not validation.success:
            rows = validation.unexpected_rows.copy()
            rows["value"] = rows["value"].map(mask_plate)
            failures.append("clear-plate-looking text: " + _failures(validation))
            tables.append(markdown_table(rows))
    if not failures:
        scanned = [f"{len(plates)} plate column(s)"] if plates else []
        scanned += [f"{len(others)} other text column(s)"] if others else []
        what = " and ".join(scanned) or "no text column"
        return CheckOutcome(True, "ERROR", f"No clear plate in {table} ({what}).", metadata)
    metadata["failed_expectations"] = "; ".join(failures)
    metadata["failing_rows"] = "\n\n".join(tables)
    return CheckOutcome(
        False, "ERROR", f"Clear plates in {table}: {'; '.join(failures)}.", metadata
    )


def _distinct_text_values(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str]
) -> pd.DataFrame:
    """One row per (column, distinct value) of `columns`, with how many rows hold it."""
    cols = ", ".join(f'"{c}"' for c in columns)
    return frame(
        con,
        f"""
        select column_name, value, count(*) as rows
        from (unpivot (select {cols} from "{table}") on {cols} into name column_name value value)
        group by all order by column_name, value
        """,
    )
