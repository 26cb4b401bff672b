"""Resources, configured from the environment (`PARKFLOW_DATA_DIR`)."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.project import DBT_EXECUTABLE, dbt_env, dbt_project, warehouse_path


@dg.definitions
def resources() -> dg.Definitions:
    """`duckdb` reads the warehouse; `dbt` runs the dbt project, which writes it."""
    dbt_env()
    return dg.Definitions(
        resources={
            "duckdb": DuckDBResource(database=str(warehouse_path())),
            "dbt": DbtCliResource(
                project_dir=dbt_project,
                profiles_dir=str(dbt_project.project_dir),
                dbt_executable=str(DBT_EXECUTABLE),
            ),
        }
    )
