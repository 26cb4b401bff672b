"""The Dagster code location: every definition under `orchestration/defs/`, loaded by folder.

`dagster dev -w workspace.yaml`, `dagster dev` and `dg dev` all load this module.
The assets, checks, schedules and sensors arrive with the orchestration issue.
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """Load the `defs/` folder."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
