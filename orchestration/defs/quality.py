"""Great Expectations quality checks on the staging and mart assets, as Dagster asset checks.

The checks themselves are plain functions in `orchestration/quality/checks.py`; here each one
becomes an `@asset_check` on a dbt model's asset key (the model name), reading the warehouse
read-only through the `duckdb` resource. An ERROR check whose failure is about some
facilities' rows (occupancy in range, vendor feeds, amounts, durations) names them and reports
the failure as WARN: it still runs before the publish step (it is blocking), which keeps
those facilities' last published rows (`serving.py`). The other blocking ERROR checks
(privacy, an empty mart) stop the mart's publication; WARN checks only show in the UI. Only
`quality_checks` is loaded by `load_from_defs_folder`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import dagster as dg
import duckdb as duckdb_module
from dagster_duckdb import DuckDBResource

from orchestration.quality import checks
from orchestration.quality.checks import CheckOutcome
from orchestration.quality.connection import read_only

_BLOCKS = "Blocking: when it fails, the marts downstream are not published."
_NOT_BLOCKING = "Not blocking: publication goes on, the failure shows here."
_HOLDS = (
    "Blocking for the failing facilities only: a failure names them and is reported as WARN "
    "(the run stays green), and the publish step keeps their last published rows (none before "
    "a first publication) while every other facility's new rows are published."
)
_PRIVACY = (
    "Privacy (Great Expectations): no clear licence plate in {what}. Every `plate*` text column "
    'must hold 20-character upper-case hex pseudonyms (keyed hashes, ARCHITECTURE "Canonical '
    'events"){scan}. ERROR. ' + _BLOCKS + " Plates in the failing rows are masked (AB****)."
)
_SCAN = (
    ", and no other text column may hold a value that looks like a clear normalised plate "
    "(4-10 letters and digits, with both)"
)


@dataclass(frozen=True)
class QualityCheck:
    """One check: where it goes, what it says in the UI, and the function that runs it."""

    asset: str
    name: str
    description: str
    blocking: bool
    run: Callable[[duckdb_module.DuckDBPyConnection], CheckOutcome]


def _metadata(outcome: CheckOutcome) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for key, value in outcome.metadata.items():
        if value is None:
            continue
        metadata[key] = dg.MetadataValue.md(value) if key == "failing_rows" else value
    return metadata


def to_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    """The Dagster result of a check outcome.

    A failure that names its facilities is reported as WARN, so that Dagster does not skip
    the publish step (which holds back those facilities' rows, `serving.py`); being blocking,
    the check still runs before that step.
    """
    if outcome.facilities:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"Holds back {', '.join(outcome.facilities)}: {outcome.description}",
            metadata=_metadata(outcome),
        )
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity(outcome.severity),
        description=outcome.description,
        metadata=_metadata(outcome),
    )


def _asset_check(spec: QualityCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(spec.asset),
        name=spec.name,
        description=spec.description,
        blocking=spec.blocking,
        compute_kind="great_expectations",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with read_only(duckdb.database, duckdb.connection_config) as con:
            return to_result(spec.run(con))

    return _check


def _row_count(table: str, severity: checks.Severity, why: str) -> QualityCheck:
    blocking = severity == "ERROR"
    return QualityCheck(
        table,
        "has_rows",
        f"Great Expectations: {table} has at least one row. {severity}. {why} "
        + (_BLOCKS if blocking else _NOT_BLOCKING),
        blocking,
        partial(checks.row_count, table=table, severity=severity),
    )


def _privacy(table: str, ids: list[str], *, scan: bool) -> QualityCheck:
    return QualityCheck(
        table,
        "no_clear_plates",
        _PRIVACY.format(what=table, scan=_SCAN if scan else ""),
        True,
        partial(checks.plates_pseudonymised, table=table, id_columns=ids, scan_text_columns=scan),
    )


#: How mart_data_quality_daily dates what the dead-letter checks compare.
_FEED_DAYS = (
    "Days are UTC days of event time: a dead letter counts on the day of its place in the feed "
    "(the newest event of its vendor before it), so loading history does not count against "
    "today."
)


def _vendor_feeds(table: str) -> QualityCheck:
    return QualityCheck(
        table,
        "vendor_feeds_usable",
        f"Great Expectations: no facility in {table} was fed on a day by a vendor that lost "
        f"{checks.UNUSABLE_FEED_SHARE:.0%} or more of that day's payloads (and at least "
        f"{checks.UNUSABLE_FEED_MIN_DEAD_LETTERS}) to the dead-letter table (garbage, a firmware "
        "change). ERROR: the numbers of the facilities it fed that day would be too low. "
        + _HOLDS
        + " The vendor, day and facilities are listed. "
        + _FEED_DAYS,
        True,
        partial(checks.vendor_feeds_usable, table=table),
    )


def quality_check_specs(
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    max_event_age: timedelta = checks.DEFAULT_FRESHNESS,
    dead_letter_threshold: float = checks.DEFAULT_DEAD_LETTER_THRESHOLD,
) -> list[QualityCheck]:
    """Every quality check; `now` is the freshness check's clock (tests pass a fixed one)."""
    hours = max_event_age / timedelta(hours=1)
    return [
        QualityCheck(
            "stg_events",
            "events_fresh",
            f"Freshness (Great Expectations): the newest event time in stg_events is at most "
            f"{hours:g} h old. WARN: stale data is still correct data (a vendor or the worker "
            f"may be down); the dashboards show their as-of time. " + _NOT_BLOCKING,
            False,
            lambda con: checks.events_fresh(con, now(), max_event_age),
        ),
        _privacy("stg_events", ["event_id", "event_type", "facility_id", "ts"], scan=False),
        _privacy("stg_sessions", ["session_id", "facility_id", "entry_ts"], scan=False),
        _privacy("stg_anomalies", ["anomaly_id", "facility_id", "ts"], scan=False),
        _row_count(
            "fct_parking_sessions",
            "WARN",
            "Not an error: a deployment with no gated facility has no sessions.",
        ),
        QualityCheck(
            "fct_parking_sessions",
            "no_negative_amounts",
            "Great Expectations: no session has a negative amount_due, amount_paid or leakage. "
            "ERROR: a negative amount is a pricing or matching bug that would distort revenue "
            "and compliance. " + _HOLDS + " The failing sessions are listed.",
            True,
            checks.no_negative_session_amounts,
        ),
        QualityCheck(
            "fct_parking_sessions",
            "durations_possible",
            "Great Expectations: every CLOSED session lasts between 0 and its facility's max stay "
            "(the estate's max_stay_hours; a longer stay is ABANDONED, never closed). ERROR: an "
            "impossible duration is a clock or matching defect that distorts dwell times and "
            "revenue. " + _HOLDS + " The failing sessions are listed.",
            True,
            checks.session_durations_possible,
        ),
        _privacy("fct_parking_sessions", ["session_id", "facility_id", "entry_ts"], scan=True),
        _row_count(
            "mart_occupancy_hourly",
            "ERROR",
            "Publishing an empty mart would blank the occupancy dashboards.",
        ),
        QualityCheck(
            "mart_occupancy_hourly",
            "occupancy_rate_in_range",
            "Great Expectations: every hour's occupancy_rate is within 0..1 and its peak_occupied "
            "within capacity (the one owner of this rule). Flagged count readings (below zero or "
            "above capacity; kept as received by design) are left out of the rates where they "
            "hold, and counted in the metadata. ERROR: an occupancy above 100% on a manager's "
            "screen is wrong. "
            + _HOLDS
            + " The failing hours are listed (subject, facility, hour).",
            True,
            checks.occupancy_rate_in_range,
        ),
        QualityCheck(
            "mart_occupancy_hourly",
            "hourly_series_complete",
            "Great Expectations: every facility and zone has a row for every UTC hour between its "
            "first and its last hour (no gap in the series). ERROR: a gap is a defect of the "
            "occupancy sweep, but the other hours are right, so the mart is still published "
            "with a hole in its charts. " + _NOT_BLOCKING + " The missing hours are listed.",
            False,
            checks.hourly_series_complete,
        ),
        _vendor_feeds("mart_occupancy_hourly"),
        QualityCheck(
            "mart_occupancy_daily",
            "occupancy_rate_in_range",
            "Great Expectations: every day's occupancy_rate is within 0..1 and its peak_occupied "
            "within capacity (the one owner of this rule; flagged readings are left out of the "
            "rates). ERROR: an occupancy above 100% on a manager's screen is wrong. "
            + _HOLDS
            + " The failing days are listed (subject, facility, day).",
            True,
            checks.daily_occupancy_rate_in_range,
        ),
        _privacy("mart_occupancy_hourly", ["subject_id", "hour_start_utc"], scan=True),
        _row_count(
            "mart_revenue_daily",
            "ERROR",
            "Every facility with data has a row per day, so an empty mart is a failed build.",
        ),
        QualityCheck(
            "mart_revenue_daily",
            "no_negative_amounts",
            "Great Expectations (the one owner of this rule): no negative gross_revenue, refunds, "
            "amount_due or leakage on any facility-day-method row; net revenue may be negative on "
            "a refund day. ERROR: a negative taking in a manager's report is wrong. "
            + _HOLDS
            + " The failing rows are listed (facility, day, method).",
            True,
            checks.no_negative_takings,
        ),
        _vendor_feeds("mart_revenue_daily"),
        _privacy("mart_revenue_daily", ["facility_id", "local_date"], scan=True),
        _row_count(
            "mart_device_health",
            "WARN",
            "Not an error: only devices that send telemetry are listed, and a site may have none.",
        ),
        _privacy("mart_device_health", ["device_id"], scan=True),
        _row_count(
            "mart_data_quality_daily",
            "ERROR",
            "Every landed event counts in it, so an empty mart is a failed build.",
        ),
        QualityCheck(
            "mart_data_quality_daily",
            "dead_letter_share",
            f"Great Expectations: every vendor's daily dead-letter share (payloads its plugin "
            f"rejected / all its payloads) is below {dead_letter_threshold:.0%}. WARN: a vendor "
            f"sending bad payloads needs attention, but what was parsed is right. "
            + _NOT_BLOCKING
            + " The failing vendor-days are listed. "
            + _FEED_DAYS,
            False,
            partial(checks.dead_letter_share, threshold=dead_letter_threshold),
        ),
        QualityCheck(
            "mart_data_quality_daily",
            "duplicate_share",
            f"Great Expectations: every vendor-day has under "
            f"{checks.DEFAULT_DUPLICATE_THRESHOLD:.0%} duplicate rows. WARN: duplicates are "
            "removed by event id before any mart counts them, so the numbers stay right; a flood "
            "shows a device or gateway re-sending in a loop. "
            + _NOT_BLOCKING
            + " The flooded vendor-days are listed.",
            False,
            checks.duplicate_share,
        ),
        _privacy("mart_data_quality_daily", ["date", "source"], scan=True),
    ]


def build_quality_checks(**options: Any) -> list[dg.AssetChecksDefinition]:
    """The asset checks of `quality_check_specs(**options)`."""
    return [_asset_check(spec) for spec in quality_check_specs(**options)]


quality_checks = build_quality_checks()
