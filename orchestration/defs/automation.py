"""Automation: refresh on new lake data, every 15 minutes, and a nightly full rebuild.

All three run the same selection (dbt models, then publishing); the `warehouse`
pool (limit 1, `orchestration/dagster.yaml`) keeps them from writing the warehouse
at the same time, and the sensor skips while a refresh is queued or running.
"""

from __future__ import annotations

import json

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from orchestration.defs.dbt import parkflow_dbt
from orchestration.defs.lake import lake_key
from orchestration.lake_stats import fingerprint
from orchestration.project import data_dir
from parkflow.lake import TABLES

WAREHOUSE = dg.AssetSelection.groups("staging", "marts", "serving")
# seeds also feed dbt tests (relationships), which upstream() does not follow: always load them
SEEDS = build_dbt_asset_selection([parkflow_dbt], dbt_select="resource_type:seed")

# in one process: dbt is a subprocess anyway, and the quality checks then import Great
# Expectations once per run instead of once per check step (about 5 s each)
refresh_marts = dg.define_asset_job(
    "refresh_marts",
    selection=WAREHOUSE,
    executor_def=dg.in_process_executor,
    description="dbt build of the staging and mart models, then publish the marts.",
)
nightly_full_refresh = dg.define_asset_job(
    "nightly_full_refresh",
    selection=WAREHOUSE,
    executor_def=dg.in_process_executor,
    description="Rebuild every model from scratch (incremental ones too), then publish.",
    config={"ops": {"parkflow_dbt": {"config": {"full_refresh": True}}}},
)
every_15_minutes = dg.ScheduleDefinition(
    job=refresh_marts, cron_schedule="*/15 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)
nightly = dg.ScheduleDefinition(
    job=nightly_full_refresh, cron_schedule="30 2 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)  # fmt: skip


#: Run states that still hold or wait for the warehouse pool.
PENDING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def warehouse_runs_pending(instance: dg.DagsterInstance) -> int:
    """How many runs of the warehouse jobs are queued or running."""
    return sum(
        instance.get_runs_count(dg.RunsFilter(job_name=job.name, statuses=PENDING))
        for job in (refresh_marts, nightly_full_refresh)
    )


@dg.sensor(
    job=refresh_marts,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a refresh of the models downstream of the lake tables that got "
    "new files since the last request; waits while a refresh is queued or running.",
)
def new_lake_data(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Compare each lake table's files with the cursor; refresh what depends on the changed.

    While a warehouse run is queued or running it skips without moving the cursor: the files
    that land meanwhile are all taken by the next request. Requesting one run per new file
    instead queues runs faster than a busy machine works through them.
    """
    if busy := warehouse_runs_pending(context.instance):
        return dg.SkipReason(f"{busy} warehouse run(s) queued or running")
    seen = json.loads(context.cursor or "{}")
    now = {table: fingerprint(data_dir(), table) for table in TABLES}
    changed = sorted(t for t in TABLES if now[t] != seen.get(t) and not now[t].startswith("0-"))
    if not changed:
        return dg.SkipReason("no new lake files")
    affected = dg.AssetSelection.assets(*(lake_key(t) for t in changed)).downstream() & WAREHOUSE
    # with what they read (seeds, staging views): on a fresh warehouse, or when another lake
    # table has no file yet, those would be missing; staging is views and incremental, cheap
    selection = (affected.upstream() & WAREHOUSE) | SEEDS
    keys = sorted(selection.resolve(context.repository_def.asset_graph))
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=json.dumps(now, sort_keys=True), asset_selection=keys)],
        cursor=json.dumps(now),
    )


defs = dg.Definitions(
    jobs=[refresh_marts, nightly_full_refresh],
    schedules=[every_15_minutes, nightly],
    sensors=[new_lake_data],
)
