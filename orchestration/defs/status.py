"""Sensors that record, after each run, which marts are current and why others are stale.

A blocked mart's publish step never runs (or refuses to), so nothing inside the run can say
so; a run-status sensor looks at the finished run instead and updates `marts/_status.json`
(see `orchestration/publication.py`), which the dashboards read to warn their viewers.
"""

from datetime import UTC, datetime

import dagster as dg

from orchestration.project import marts_dir
from orchestration.publication import (
    CheckResult,
    RunOutcome,
    merge_status,
    read_status,
    write_status,
)
from orchestration.quality.checks import HELD_FACILITIES

SERVING = "serving"


def _served_mart(key: dg.AssetKey | None) -> str | None:
    return key.path[-1] if key is not None and key.path[0] == SERVING else None


def run_outcome(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunOutcome:
    """What `run` planned to publish, what it published, and its check results."""
    event_type = dg.DagsterEventType

    def events(kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
        return [
            record.get_dagster_event() for record in instance.all_logs(run.run_id, of_type=kind)
        ]

    planned = {_served_mart(e.asset_key) for e in events(event_type.ASSET_MATERIALIZATION_PLANNED)}
    materialized = events(event_type.ASSET_MATERIALIZATION)
    published = {_served_mart(e.asset_key) for e in materialized}
    held = {}
    for event in materialized:
        value = event.step_materialization_data.materialization.metadata.get(HELD_FACILITIES)
        facilities = [f.strip() for f in str(value.value).split(",")] if value else []
        if mart := _served_mart(event.asset_key):
            held[mart] = [f for f in facilities if f]
    checks = []
    for event in events(event_type.ASSET_CHECK_EVALUATION):
        evaluation = event.asset_check_evaluation_data
        rows = evaluation.metadata.get("failing_rows")
        checks.append(
            CheckResult(
                asset=evaluation.asset_key.to_user_string(),
                check=evaluation.check_name,
                passed=evaluation.passed,
                severity=evaluation.severity.value,
                description=evaluation.description or "",
                failing_rows=str(rows.value) if rows is not None else "",
            )
        )
    return RunOutcome(
        run_id=run.run_id,
        job=run.job_name,
        status=run.status.value,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        planned=planned - {None},
        published=published - {None},
        checks=checks,
        held={mart: facilities for mart, facilities in held.items() if facilities},
    )


def record_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dict:
    """Fold `run` into `marts/_status.json`; the new status."""
    folder = marts_dir()
    status = merge_status(read_status(folder), run_outcome(instance, run))
    write_status(folder, status)
    return status


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="publication_status_after_success",
    description="Records in marts/_status.json which marts a successful run published.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def after_success(context: dg.RunStatusSensorContext) -> None:
    record_run(context.instance, context.dagster_run)


@dg.run_failure_sensor(
    name="publication_status_after_failure",
    description="Records in marts/_status.json which marts a failed run left stale, and why.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def after_failure(context: dg.RunFailureSensorContext) -> None:
    record_run(context.instance, context.dagster_run)


defs = dg.Definitions(sensors=[after_success, after_failure])
