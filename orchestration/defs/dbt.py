"""`staging`, `marts`: the dbt project as assets (dagster-dbt), writing the warehouse.

dbt sources `lake.<table>` map to the lake assets, so lineage runs from the vendor
feeds to the marts; dbt tests show as asset checks. Every asset that writes the
warehouse is in the `warehouse` pool (limit 1: DuckDB allows one writer).
"""

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtCliResource, dbt_assets

from orchestration.defs.estate import estate_key
from orchestration.defs.lake import lake_key
from orchestration.project import (
    SCHEDULED_BUILD_FLAGS,
    dbt_project,
    ensure_manifest,
    write_estate,
)

WAREHOUSE_POOL = "warehouse"
OWNERS = {"staging": ["team:data-engineering"], "marts": ["team:analytics"]}


def layer(props: Mapping[str, Any]) -> str:
    """staging (seeds, estate, staging and intermediate models) or marts."""
    return "marts" if "marts" in props.get("fqn", []) else "staging"


class ParkflowTranslator(DagsterDbtTranslator):
    """Lake sources -> lake assets; groups, owners and kinds by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props["source_name"] == "estate":
                return estate_key(dbt_resource_props["name"])
            return lake_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return layer(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS[layer(dbt_resource_props)]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return {**super().get_tags(dbt_resource_props), "dagster/kind/duckdb": ""}

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        """dbt tests as checks, never blocking inside the dbt step.

        A failed blocking check fails the whole step it runs in, which here would stop the
        publication of every mart. dbt already skips the models below a failed
        error-severity test, and the publish asset of the tested mart refuses to publish
        (`serving.py`), so the block stays per mart.
        """
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        return spec._replace(blocking=False) if spec else None


class DbtBuildConfig(dg.Config):
    """`full_refresh` rebuilds incremental models from scratch (the nightly job sets it)."""

    full_refresh: bool = False


@dbt_assets(
    manifest=ensure_manifest(dbt_project),
    dagster_dbt_translator=ParkflowTranslator(),
    pool=WAREHOUSE_POOL,
)
def parkflow_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    """dbt build of the selected models and their data tests (no unit tests: see the flags)."""
    write_estate()  # the estate as the files say now: an edit is used by this build
    args = ["build", *SCHEDULED_BUILD_FLAGS]
    if config.full_refresh:
        args.append("--full-refresh")
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    yield from invocation.stream()
    if not invocation.is_successful():
        raise_unbuilt_nodes(invocation)


def raise_unbuilt_nodes(invocation: DbtCliInvocation) -> None:
    """Fail the step when a model or seed did not build; failed tests are check results."""
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except FileNotFoundError:
        raise dg.Failure("dbt stopped before building anything: see the dbt log above.") from None
    broken = [
        result["unique_id"]
        for result in results
        if result["status"] == "error" and result["unique_id"].split(".")[0] in {"model", "seed"}
    ]
    if broken:
        raise dg.Failure(f"dbt could not build {', '.join(broken)}: see the dbt log above.")


@cache
def publish_orders() -> dict[str, list[str]]:
    """Per mart, the columns its published file is sorted by (`meta: publish_order_by`)."""
    nodes = json.loads(ensure_manifest(dbt_project).read_text())["nodes"].values()
    return {
        node["name"]: list(node["config"]["meta"].get("publish_order_by", []))
        for node in nodes
        if node["resource_type"] == "model"
    }


@cache
def _columns() -> dict[str, list[str]]:
    nodes = json.loads(ensure_manifest(dbt_project).read_text())["nodes"].values()
    return {
        node["name"]: list(node["columns"]) for node in nodes if node["resource_type"] == "model"
    }


def mart_columns(mart: str) -> list[str]:
    """The columns `mart`'s yml documents (every mart documents every column)."""
    return _columns().get(mart, [])


def publish_order(mart: str) -> list[str]:
    """The columns `mart`'s published file is sorted by (none unless its yml says)."""
    return publish_orders().get(mart, [])


def mart_names() -> list[str]:
    """The dbt models of the marts layer (what the serving assets publish)."""
    return sorted(
        key.path[-1] for key in parkflow_dbt.keys if parkflow_dbt.group_names_by_key[key] == "marts"
    )
