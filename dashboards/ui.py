"""Building blocks every page uses: headline numbers, charts, tables, empty states.

Texts that may carry user input (a facility from the URL) are HTML-escaped before they reach
a markdown component. CSS classes (`pf-kpi`, `pf-chart`, `pf-table`, `pf-empty`) give the
browser tests stable handles.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import holoviews as hv
import pandas as pd
import panel as pn
import panel_material_ui as pmui

CHART_HEIGHT = 320
TABLE_PAGE_SIZE = 12
KPI_WIDTH = 230
KPI_HEIGHT = 100


def esc(value: object) -> str:
    """Text safe to put in markdown/HTML."""
    return html.escape(str(value), quote=True)


KPI_CSS = """
.pf-card { padding: 10px 16px; border-radius: 4px; background: var(--panel-surface-color, #fff);
           box-shadow: 0 1px 3px rgba(0, 0, 0, 0.2); height: 100%; box-sizing: border-box; }
.pf-label { font-size: 12px; letter-spacing: 0.08em; text-transform: uppercase; opacity: 0.8; }
.pf-value { display: block; font-size: 24px; font-weight: 500; margin: 4px 0; }
.pf-note { font-size: 12px; opacity: 0.75; }
"""


def kpi(label: str, value: str, note: str = "", slug: str = "") -> pn.pane.HTML:
    """A headline number with its label and a short note under it (`.pf-value` holds it)."""
    text = (
        f'<div class="pf-card"><span class="pf-label">{esc(label)}</span>'
        f'<span class="pf-value">{esc(value)}</span>'
        f'<span class="pf-note">{esc(note)}</span></div>'
    )
    classes = ["pf-kpi"] + ([f"pf-kpi-{slug}"] if slug else [])
    return pn.pane.HTML(
        text,
        css_classes=classes,
        stylesheets=[KPI_CSS],
        width=KPI_WIDTH,
        height=KPI_HEIGHT,
        margin=(4, 8),
    )


def kpis(*cards: pn.pane.HTML) -> pn.FlexBox:
    """A wrapping row of headline numbers."""
    return pn.FlexBox(*cards, sizing_mode="stretch_width")


def heading(text: str, help_text: str = "") -> pn.viewable.Viewable:
    """A section title, with a one-line explanation under it."""
    title = pmui.Typography(esc(text), variant="h6", margin=(16, 8, 0, 8))
    if not help_text:
        return title
    note = pmui.Typography(esc(help_text), variant="body2", margin=(0, 8, 4, 8))
    return pn.Column(title, note, sizing_mode="stretch_width")


def empty(message: str, title: str = "No data") -> pmui.Alert:
    """A friendly empty state instead of a chart or table."""
    return pmui.Alert(
        object=esc(message),
        title=title,
        severity="info",
        css_classes=["pf-empty"],
        sizing_mode="stretch_width",
        margin=(8, 8),
    )


def note(
    message: str, severity: str = "info", title: str = "", classes: Sequence[str] = ()
) -> pmui.Alert:
    """An inline message (info, success, warning or error)."""
    return pmui.Alert(
        object=esc(message),
        title=title,
        severity=severity,
        sizing_mode="stretch_width",
        margin=(8, 8),
        css_classes=list(classes),
    )


def chart(plot: hv.core.Dimensioned, name: str) -> pn.pane.HoloViews:
    """An hvplot chart, stretched to the page width (axes not linked to other charts)."""
    return pn.pane.HoloViews(
        plot,
        linked_axes=False,
        sizing_mode="stretch_width",
        height=CHART_HEIGHT,
        css_classes=["pf-chart", f"pf-chart-{name}"],
        margin=(4, 8),
    )


def table(
    frame: pd.DataFrame,
    name: str,
    titles: Mapping[str, str] | None = None,
    formatters: Mapping[str, object] | None = None,
    hidden: Sequence[str] = (),
    page_size: int = TABLE_PAGE_SIZE,
) -> pn.widgets.Tabulator:
    """A read-only, paginated table with manager-friendly headers."""
    return pn.widgets.Tabulator(
        frame,
        show_index=False,
        disabled=True,
        pagination="local",
        page_size=page_size,
        titles=dict(titles or {}),
        formatters=dict(formatters or {}),
        hidden_columns=list(hidden),
        layout="fit_data_stretch",
        sizing_mode="stretch_width",
        css_classes=["pf-table", f"pf-table-{name}"],
        margin=(4, 8),
    )


def day_label(values: pd.Series) -> pd.Series:
    """Dates as short local-day labels for bar charts: `Mon 16 Nov`."""
    return pd.to_datetime(values).dt.strftime("%a %d %b")


def hours_label(hour: int) -> str:
    """An hour of the day as `08:00-09:00`."""
    return f"{hour:02d}:00-{(hour + 1) % 24:02d}:00"


DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
