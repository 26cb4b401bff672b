"""What the team extends shows up in Dagster with no orchestration change."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import uuid

import dagster as dg

from orchestration.project import DBT_DIR
from parkflow.registry import ENTRY_POINT_GROUP


def load_definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


def asset_keys(definitions: dg.Definitions) -> set[dg.AssetKey]:
    return {spec.key for spec in definitions.resolve_all_asset_specs()}


def test_a_new_plugin_package_gets_a_sources_asset(week_lake, monkeypatch):
    installed = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    extra = importlib.metadata.EntryPoint(
        "good", "tests.core.fake_plugins:GoodPlugin", ENTRY_POINT_GROUP
    )
    monkeypatch.setattr("parkflow.registry.entry_points", lambda group: [*installed, extra])
    keys = asset_keys(load_definitions())
    assert dg.AssetKey(["sources", "good"]) in keys
    assert dg.AssetKey(["sources", "camguard"]) in keys


def keys_in_a_fresh_process() -> set[str]:
    """Asset keys as a code server sees them: a new process loading the code location."""
    script = (
        "import json\n"
        "from orchestration.definitions import defs\n"
        "print(json.dumps([s.key.to_user_string() for s in defs().resolve_all_asset_specs()]))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        capture_output=True, text=True, check=True, timeout=180,
    )  # fmt: skip
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_new_dbt_model_becomes_an_asset_and_is_published(week_lake):
    name = f"mart_throwaway_{uuid.uuid4().hex[:8]}"
    model = DBT_DIR / "models" / "marts" / f"{name}.sql"
    model.write_text("select 1 as one\n")
    try:
        keys = keys_in_a_fresh_process()
    finally:
        model.unlink()
    assert name in keys
    assert f"serving/{name}" in keys
    assert name not in keys_in_a_fresh_process()
