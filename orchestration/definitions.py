"""The Dagster code location: every definition under `orchestration/defs/`, loaded by folder.

`dagster dev -w workspace.yaml`, `dagster dev` and `dg dev` all load this module; each module
of `defs/` holds one concern (sources, lake, dbt, quality, serving, dashboards, automation,
publication status).
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """Load the `defs/` folder."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
