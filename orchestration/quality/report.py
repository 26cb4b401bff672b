"""Turning failing rows into something a person can read in the Dagster UI."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd

#: Most rows a failing-rows table shows.
MAX_ROWS = 20


def mask_plate(value: Any) -> Any:
    """Hide most of a clear plate, so the check's metadata does not spread it: AB123C -> AB****."""
    if not isinstance(value, str) or len(value) <= 2:
        return value
    return value[:2] + "*" * (len(value) - 2)


def _cell(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame, max_rows: int = MAX_ROWS) -> str:
    """The first `max_rows` rows of `df` as a markdown table (with a note when cut)."""
    if df.empty:
        return "_no rows_"
    shown = df.head(max_rows)
    lines = [
        "| " + " | ".join(str(c) for c in shown.columns) + " |",
        "|" + "---|" * len(shown.columns),
    ]
    for row in shown.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    if len(df) > max_rows:
        lines.append(f"\n_{len(df) - max_rows} more rows not shown_")
    return "\n".join(lines)
