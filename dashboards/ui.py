"""Building blocks every page uses: headline numbers, charts, tables, empty states.

Texts that may carry user input (a facility from the URL) are HTML-escaped before they reach
a markdown component. CSS classes (`pf-kpi`, `pf-chart`, `pf-table`, `pf-empty`) give the
browser tests stable handles.

The browser builds a view per component, again at every filter change: a row of headline
numbers is one HTML pane, and a section title plain HTML rather than a Material UI (React)
component, which costs several times more to draw.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import holoviews as hv
import pandas as pd
import panel as pn
import panel_material_ui as pmui

from dashboards import format as fmt

CHART_HEIGHT = 320
TABLE_PAGE_SIZE = 12
KPI_WIDTH = 230
KPI_HEIGHT = 100


def esc(value: object) -> str:
    """Text safe to put in markdown/HTML."""
    return html.escape(str(value), quote=True)


KPI_CSS = f"""
.pf-kpis {{ display: flex; flex-wrap: wrap; }}
.pf-kpi {{ display: flex; width: {KPI_WIDTH}px; min-height: {KPI_HEIGHT}px; margin: 4px 8px; }}
.pf-card {{ flex: 1; padding: 10px 16px; border-radius: 4px; box-sizing: border-box;
           background: var(--panel-surface-color, #fff);
           box-shadow: 0 1px 3px rgba(0, 0, 0, 0.2); }}
.pf-label {{ font-size: 12px; letter-spacing: 0.08em; text-transform: uppercase; opacity: 0.8; }}
.pf-value {{ display: block; font-size: 24px; font-weight: 500; margin: 4px 0; }}
.pf-note {{ font-size: 12px; opacity: 0.75; }}
"""

HEADING_CSS = """
.pf-heading { margin: 0; font: 700 1rem/1.6 Roboto, Helvetica, Arial, sans-serif; }
.pf-help { margin: 8px 0 0; font: 400 0.875rem/1.43 Roboto, Helvetica, Arial, sans-serif; }
"""


def kpi(label: str, value: str, note: str = "", slug: str = "") -> str:
    """A headline number with its label and a short note under it (`.pf-value` holds it)."""
    classes = "pf-kpi" + (f" pf-kpi-{esc(slug)}" if slug else "")
    return (
        f'<div class="{classes}"><div class="pf-card">'
        f'<span class="pf-label">{esc(label)}</span>'
        f'<span class="pf-value">{esc(value)}</span>'
        f'<span class="pf-note">{esc(note)}</span></div></div>'
    )


def kpis(*cards: str) -> pn.pane.HTML:
    """A wrapping row of headline numbers (`kpi` cards), drawn as one HTML pane."""
    return pn.pane.HTML(
        '<div class="pf-kpis">' + "".join(cards) + "</div>",
        css_classes=["pf-kpis"],
        stylesheets=[KPI_CSS],
        sizing_mode="stretch_width",
        margin=(4, 0),
    )


def heading(text: str, help_text: str = "") -> pn.pane.HTML:
    """A section title, with a one-line explanation under it."""
    note = f'<p class="pf-help">{esc(help_text)}</p>' if help_text else ""
    return pn.pane.HTML(
        f'<h2 class="pf-heading">{esc(text)}</h2>{note}',
        stylesheets=[HEADING_CSS],
        sizing_mode="stretch_width",
        margin=(16, 8, 4, 8),
    )


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


class ChartSlot:
    """One chart of a page, drawn once: a later plot only replaces its data in the browser.

    The chart is a `DynamicMap` fed by a `Pipe`: sending it the next plot (same kind of chart,
    other data) updates the existing Bokeh figure instead of building a new one, several
    times cheaper for the server and the browser. Axes follow each plot's data (framewise).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._pipe: hv.streams.Pipe | None = None
        self.pane: pn.pane.HoloViews | None = None

    def show(self, plot: hv.core.Dimensioned) -> pn.pane.HoloViews:
        """The chart's pane, now showing `plot`."""
        # the height on the plot itself: a DynamicMap's pane cannot read it from the plot
        plot = plot.opts(framewise=True, responsive=True, height=CHART_HEIGHT)
        if self._pipe is None or self.pane is None:
            self._pipe = hv.streams.Pipe(data=plot)
            self.pane = chart(hv.DynamicMap(_shown, streams=[self._pipe]), self.name)
        else:
            self._pipe.send(plot)
        return self.pane


def _shown(data: hv.core.Dimensioned) -> hv.core.Dimensioned:
    return data


def table(
    frame: pd.DataFrame,
    name: str,
    titles: Mapping[str, str] | None = None,
    formatters: Mapping[str, object] | None = None,
    hidden: Sequence[str] = (),
    page_size: int = TABLE_PAGE_SIZE,
    percent: Sequence[str] = (),
) -> pn.widgets.Tabulator:
    """A read-only, paginated table with manager-friendly headers.

    `percent` columns hold shares (0.875) and show as `87.5%`. Paginated on the server: the
    browser gets one page of rows at a time, not the whole frame.
    """
    if percent:
        frame = frame.assign(**{column: frame[column] * 100 for column in percent})
    cells = dict(formatters or {}) | {column: fmt.percent_cells() for column in percent}
    return pn.widgets.Tabulator(
        frame,
        show_index=False,
        disabled=True,
        pagination="remote",
        page_size=page_size,
        titles=dict(titles or {}),
        formatters=cells,
        hidden_columns=list(hidden),
        layout="fit_data_stretch",
        sizing_mode="stretch_width",
        css_classes=["pf-table", f"pf-table-{name}"],
        margin=(4, 8),
    )


def view_tabs(views: Mapping[str, str], shown: str) -> pmui.Tabs:
    """The tab strip that picks a page's view (`.pf-views`; the views are drawn under it)."""
    return pmui.Tabs(
        *[(title, pn.Spacer(height=0, margin=0)) for title in views.values()],
        active=list(views).index(shown),
        css_classes=["pf-views"],
        sizing_mode="stretch_width",
        margin=(12, 8, 0, 8),
    )


def day_label(values: pd.Series) -> pd.Series:
    """Dates as short local-day labels for bar charts: `Mon 16 Nov`."""
    return pd.to_datetime(values).dt.strftime("%a %d %b")


def hours_label(hour: int) -> str:
    """An hour of the day as `08:00-09:00`."""
    return f"{hour:02d}:00-{(hour + 1) % 24:02d}:00"


DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
