"""The worked example of docs/analysts.md builds: an analyst's new mart needs no other change."""

import re
import shutil

import pytest

from tests.dbt.conftest import PROJECT, ROOT, dbt

pytestmark = pytest.mark.slow

FILE = re.compile(r"<!-- file: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)\n```", re.DOTALL)


def example_files() -> dict[str, str]:
    """Project path -> content of each file the guide's example adds."""
    guide = (ROOT / "docs" / "analysts.md").read_text()
    return {m["path"]: m["body"] + "\n" for m in FILE.finditer(guide)}


def test_the_guide_adds_a_model_its_yaml_and_a_singular_test():
    assert set(example_files()) == {
        "models/marts/mart_vehicle_mix_daily.sql",
        "models/marts/mart_vehicle_mix_daily.yml",
        "tests/assert_vehicle_mix_shares_add_up.sql",
    }


def test_a_new_mart_file_is_picked_up_built_and_tested(warehouse, tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", ".user.yml"))
    for path, body in example_files().items():
        (project / path).write_text(body)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "lake").symlink_to(warehouse.data_dir / "lake")
    shutil.copy(warehouse.path, data_dir / "warehouse.duckdb")
    results = dbt(
        "build", data_dir, tmp_path, "--select", "mart_vehicle_mix_daily+", project=project
    )
    found = {r["unique_id"]: r["status"] for r in results["results"]}
    assert found["model.parkflow.mart_vehicle_mix_daily"] == "success"
    assert (
        found["unit_test.parkflow.mart_vehicle_mix_daily.vehicle_mix_counts_entries_only"] == "pass"
    )
    tests = [uid for uid in found if uid.startswith("test.")]
    assert any("assert_vehicle_mix_shares_add_up" in uid for uid in tests)
    assert len(tests) >= 5 and all(found[uid] == "pass" for uid in tests)
