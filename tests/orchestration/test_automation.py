"""The new-data sensor, the schedules and the jobs."""

from __future__ import annotations

import shutil
import uuid

import dagster as dg

from orchestration.defs import automation
from parkflow.lake import table_dir

STARTED = dg.DagsterRunStatus.STARTED  # a queued run needs a code location origin


def evaluate(definitions: dg.Definitions, cursor: str | None, pending: str | None = None):
    """The sensor's answer; `pending`: the job of a run started on the instance beforehand."""
    with dg.instance_for_test() as instance:
        if pending:
            instance.add_run(
                dg.DagsterRun(job_name=pending, run_id=str(uuid.uuid4()), status=STARTED)
            )
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=definitions)
        return automation.new_lake_data(context)


def test_the_sensor_requests_the_models_downstream_of_new_lake_files(
    definitions, week_lake, tmp_path, monkeypatch
):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PARKFLOW_DATA_DIR", str(data_dir))
    assert isinstance(evaluate(definitions, None), dg.SkipReason)  # no lake yet

    shutil.copytree(table_dir(week_lake, "alerts"), table_dir(data_dir, "alerts"))
    first = evaluate(definitions, None)
    assert isinstance(first, dg.SensorResult) and len(first.run_requests) == 1
    selection = first.run_requests[0].asset_selection
    keys = {key.to_user_string() for key in selection}
    assert {"stg_alerts", "mart_alerts", "serving/mart_alerts"} <= keys
    assert {"facilities", "payment_methods"} <= keys  # what it and its tests read
    assert "mart_revenue_daily" not in keys  # only what depends on the table that changed

    assert isinstance(evaluate(definitions, first.cursor), dg.SkipReason)  # nothing new since

    day = next(table_dir(data_dir, "alerts").iterdir())
    shutil.copy(next(day.glob("*.parquet")), day / "another.parquet")
    assert isinstance(evaluate(definitions, first.cursor), dg.SensorResult)


def test_the_sensor_waits_while_a_warehouse_run_is_running(
    definitions, week_lake, tmp_path, monkeypatch
):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PARKFLOW_DATA_DIR", str(data_dir))
    shutil.copytree(table_dir(week_lake, "alerts"), table_dir(data_dir, "alerts"))
    for job in ("refresh_marts", "nightly_full_refresh"):
        skipped = evaluate(definitions, None, pending=job)
        assert isinstance(skipped, dg.SkipReason) and "queued or running" in skipped.skip_message
    # a run of another job does not hold the warehouse
    assert isinstance(evaluate(definitions, None, pending="some_other_job"), dg.SensorResult)


def test_schedules_and_jobs_are_defined(definitions):
    assert definitions.resolve_job_def("refresh_marts")
    assert definitions.resolve_job_def("nightly_full_refresh")
    crons = {s.cron_schedule for s in definitions.schedules}
    assert {"*/15 * * * *", "30 2 * * *"} <= crons
