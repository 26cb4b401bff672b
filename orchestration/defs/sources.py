"""`sources`: one observable asset per registered vendor plugin, made by a factory.

A new plugin package (entry point `parkflow.sources`) appears here with no change
to the orchestration: the factory walks the plugin registry.
"""

from __future__ import annotations

import dagster as dg

from orchestration.lake_stats import vendor_stats
from orchestration.project import data_dir
from parkflow.registry import discover_plugins
from parkflow.sdk import SourcePlugin


def source_asset(plugin: SourcePlugin) -> dg.SourceAsset:
    """An observable asset for one vendor: its events and dead-letter rate in the lake."""

    @dg.observable_source_asset(
        key=["sources", plugin.name],
        group_name="sources",
        description=f"Vendor feed `{plugin.name}`: {plugin.description or 'a vendor plugin'}. "
        "Observing it counts the events and dead letters its payloads produced in the lake.",
        tags={"dagster/kind/python": "", "vendor": plugin.name},
        owners=["team:data-engineering"],
    )
    def observe_vendor() -> dg.ObserveResult:
        counts = vendor_stats(data_dir(), plugin.name)
        total = counts["events"] + counts["deadletter"]
        rate = counts["deadletter"] / total if total else 0.0
        return dg.ObserveResult(
            data_version=dg.DataVersion(f"{counts['events']}-{counts['deadletter']}"),
            metadata={
                "events": counts["events"],
                "dead_letters": counts["deadletter"],
                "dead_letter_rate": dg.FloatMetadataValue(round(rate, 4)),
            },
        )

    return observe_vendor


def source_assets() -> list[dg.SourceAsset]:
    """One asset per installed plugin."""
    registry = discover_plugins()
    return [source_asset(registry.get(name)) for name in registry.names()]


@dg.definitions
def sources() -> dg.Definitions:
    """The vendor feeds, as the registry finds them now."""
    return dg.Definitions(assets=source_assets())
