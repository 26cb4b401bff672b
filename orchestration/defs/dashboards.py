"""`dashboards`: the Panel pages as external assets, downstream of the marts they read.

Dagster does not build them; they make lineage reach the manager's screen, so a
data engineer sees which page a failing mart affects.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.dbt import mart_names
from orchestration.defs.serving import serving_key

#: page -> (what it shows, the published marts it reads)
PAGES: dict[str, tuple[str, list[str]]] = {
    "live": ("Vehicles inside and open alerts now, from the worker's live API.", []),
    "occupancy": (
        "Occupancy trend, hour-of-week heatmap, peak hours and forecast vs actual.",
        [
            "mart_occupancy_hourly",
            "mart_occupancy_daily",
            "mart_peak_hours",
            "mart_occupancy_forecast",
            "fct_parking_sessions",
        ],
    ),
    "revenue": (
        "Daily revenue by payment method, average ticket, RevPAS, compliance and leakage.",
        ["mart_revenue_daily", "mart_target_efficiency"],
    ),
    "devices": (
        "Device health scores, alerts and devices offline.",
        ["mart_device_health", "mart_alerts"],
    ),
    "data_quality": ("Dead letters and anomalies per vendor per day.", ["mart_data_quality_daily"]),
    "reports": (
        "Tables with CSV and Excel downloads.",
        ["fct_parking_sessions", "mart_revenue_daily"],
    ),
}


def dashboard_specs(published: set[str]) -> list[dg.AssetSpec]:
    """One external asset per page, depending on the published marts it reads."""
    return [
        dg.AssetSpec(
            key=["dashboards", page],
            deps=[serving_key(m) for m in marts if m in published],
            group_name="dashboards",
            description=f"Panel page `{page}`: {what}",
            kinds={"panel"},
            owners=["team:analytics"],
        )
        for page, (what, marts) in PAGES.items()
    ]


@dg.definitions
def dashboards() -> dg.Definitions:
    """The dashboard pages."""
    return dg.Definitions(assets=dashboard_specs(set(mart_names())))
