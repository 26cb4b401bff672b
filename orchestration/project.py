"""Where the orchestration finds things: the data dir, the warehouse, the dbt project.

The dbt manifest is prepared once: `ensure_manifest()` runs `dbt parse` only when
the manifest is missing or older than a file of the dbt project, so a code-server
reload costs a few `stat` calls, and a model an analyst just added still appears.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtProject

from parkflow.estate import Estate, EstateError, load_estate
from parkflow.estate.tables import write_estate_tables
from parkflow.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = REPO_ROOT / "dbt_project"
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")  # the venv's (dagster-dbt installs none)
# what scheduled refreshes add to `dbt build`: unit tests test the SQL, not the data, so they
# run in `make test` and in an analyst's own builds, not on every refresh (as dbt advises)
SCHEDULED_BUILD_FLAGS = ("--exclude-resource-type", "unit_test")
_DBT_SOURCES = ("models", "seeds", "macros", "tests", "dbt_project.yml", "profiles.yml")


def data_dir() -> Path:
    """The data dir, absolute (dbt runs in its own working directory)."""
    return load_settings().data_dir.resolve()


def warehouse_path() -> Path:
    """The DuckDB warehouse dbt builds."""
    return data_dir() / "warehouse.duckdb"


def marts_dir() -> Path:
    """Where the serving assets publish the marts as Parquet."""
    return data_dir() / "marts"


def estate() -> Estate:
    """The estate of `PARKFLOW_ESTATE` (the sample estate when unset)."""
    return load_estate(load_settings().estate)


def write_estate() -> None:
    """Write the estate tables dbt reads; an invalid estate fails the run with its problems."""
    try:
        write_estate_tables(estate(), data_dir())
    except EstateError as exc:
        raise dg.Failure(str(exc)) from None


def dbt_env() -> None:
    """Give dbt (a subprocess inheriting this environment) the absolute data dir."""
    os.environ["PARKFLOW_DATA_DIR"] = str(data_dir())


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _DBT_SOURCES:
        path = DBT_DIR / name
        files = [path] if path.is_file() else path.rglob("*") if path.exists() else []
        for file in files:
            newest = max(newest, file.stat().st_mtime)
    return newest


def ensure_manifest(project: DbtProject) -> Path:
    """Parse the dbt project when its manifest is missing or stale; the manifest's path."""
    manifest = project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
        dbt_env()
        subprocess.run(
            [str(DBT_EXECUTABLE), "parse", "--quiet", "--project-dir", str(DBT_DIR),
             "--profiles-dir", str(DBT_DIR)],
            check=True, cwd=DBT_DIR,
        )  # fmt: skip
    return manifest


dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
