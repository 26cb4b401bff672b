"""`parkflow dagster` starts by failing the runs that the last stop left in progress."""

from __future__ import annotations

import dagster as dg

from parkflow.cli.dagster import dagster_home, fail_interrupted_runs


def test_runs_left_in_progress_are_failed_and_the_others_kept(tmp_path):
    home = dagster_home(tmp_path)
    statuses = {
        "started": dg.DagsterRunStatus.STARTED,
        "starting": dg.DagsterRunStatus.STARTING,
        "not_started": dg.DagsterRunStatus.NOT_STARTED,
        "done": dg.DagsterRunStatus.SUCCESS,
    }
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ids = {
            name: instance.add_run(dg.DagsterRun(job_name="refresh_marts", status=status)).run_id
            for name, status in statuses.items()
        }

    assert sorted(fail_interrupted_runs(home)) == sorted([ids["started"], ids["starting"]])

    with dg.DagsterInstance.from_config(str(home)) as instance:
        after = {name: instance.get_run_by_id(run_id).status for name, run_id in ids.items()}
    assert after == {
        "started": dg.DagsterRunStatus.FAILURE,
        "starting": dg.DagsterRunStatus.FAILURE,
        "not_started": dg.DagsterRunStatus.NOT_STARTED,
        "done": dg.DagsterRunStatus.SUCCESS,
    }
    assert fail_interrupted_runs(home) == []  # nothing twice
