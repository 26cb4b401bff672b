"""`dbt docs generate` works, and the docs describe every model, seed and column."""

import pytest

pytestmark = pytest.mark.slow


def test_every_model_seed_and_column_is_described(docs):
    manifest, catalog = docs
    undocumented = []
    for unique_id, node in catalog["nodes"].items():
        documented = manifest["nodes"][unique_id]
        if not documented.get("description", "").strip():
            undocumented.append(unique_id)
        described = {
            name.lower(): column.get("description", "").strip()
            for name, column in documented["columns"].items()
        }
        for column in node["columns"]:
            if not described.get(column.lower()):
                undocumented.append(f"{unique_id}.{column}")
    assert len(catalog["nodes"]) >= 30
    assert not undocumented, undocumented


def test_the_lake_sources_are_described_with_freshness(docs):
    manifest, _ = docs
    sources = [s for s in manifest["sources"].values() if s["source_name"] == "lake"]
    assert {s["name"] for s in sources} == {
        "events",
        "sessions",
        "anomalies",
        "alerts",
        "deadletter",
    }
    for source in sources:
        assert source["description"].strip()
        assert source["loaded_at_field"]
        assert source["freshness"]["error_after"]["count"]
        assert all(c["description"] for c in source["columns"].values())
