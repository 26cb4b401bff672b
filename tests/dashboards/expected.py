"""What each dashboard page and view must show with data, for the browser tests, the page
tests and `benchmarks/dashboard.py`."""

from __future__ import annotations

#: page or page/view -> (charts, tables) it must show with data (CSS names after pf-chart- /
#: pf-table-); a page alone is the page as it opens (with views: on its first view).
EXPECTED = {
    "occupancy": (["trend"], []),
    "occupancy/week": (["heatmap"], ["peaks"]),
    "occupancy/forecast": (["forecast"], []),
    "occupancy/stays": (["turnover", "dwell"], []),
    "revenue": (["by-method"], []),
    "revenue/compliance": (["compliance"], ["daily"]),
    "revenue/targets": ([], ["targets"]),
    "devices": ([], ["health", "alerts"]),
    "data_quality": (["dead-letters"], ["latest", "quality"]),
    "reports": ([], ["report-sessions"]),
}


def page_query(key: str) -> str:
    """The URL query of an `EXPECTED` key: `occupancy/week` -> `page=occupancy&view=week`."""
    slug, _, view = key.partition("/")
    return f"page={slug}" + (f"&view={view}" if view else "")
