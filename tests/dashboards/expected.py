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


#: Bokeh data sources with at least one row (each chart has at least one), in the page.
FILLED_SOURCES_JS = """() => {
  let filled = 0;
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    if (m.constructor.__name__ === 'ColumnDataSource' && m.get_length() > 0) filled += 1;
  }
  return filled;
}"""


def page_query(key: str) -> str:
    """The URL query of an `EXPECTED` key: `occupancy/week` -> `page=occupancy&view=week`."""
    slug, _, view = key.partition("/")
    return f"page={slug}" + (f"&view={view}" if view else "")
