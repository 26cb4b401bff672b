"""ParkFlow dashboards: `panel serve dashboards/app.py` (or `parkflow dashboard`).

Reads the published marts of `PARKFLOW_DATA_DIR` and the worker's live API; never the
warehouse. Importing this module has no side effects; the app is built per browser session
only when Panel serves it.
"""

from __future__ import annotations

import holoviews as hv
import panel as pn

from dashboards.data import Marts, default_marts
from dashboards.shell import Shell, session_query

pn.extension("tabulator", notifications=False)
hv.renderer("bokeh").webgl = False  # no WebGL warnings in browsers without a GPU


def create_app(store: Marts | None = None, query: dict[str, str] | None = None):
    """The app for one browser session (the URL query picks the page and the filters)."""
    return Shell(store or default_marts(), query).view()


if pn.state.served:
    create_app(query=session_query()).servable(title="ParkFlow")
