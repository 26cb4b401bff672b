"""What every page is: a `Viewer` on the shared filters and the marts, re-rendered on change.

A re-render is applied in place: Panel compares the new content with what is shown and only
sends what changed (a number, a table's rows); charts made with `Page.chart` keep their Bokeh
figure and get new data. Building everything anew took seconds per filter change.

A page with several views (`views`) shows its headline numbers and one view at a time, picked
in a tab strip (`?view=` in the URL). Only the view shown is queried, built and drawn: every
chart costs the browser 100-300 ms to draw on a 2-core machine, and a page drawing six of them
took 2.5 s to open (benchmarks/RESULTS.md).
"""

from __future__ import annotations

from typing import ClassVar

import panel as pn
import param

from dashboards import ui
from dashboards.data import Marts
from dashboards.filters import Filters
from dashboards.publication import PublicationStatus, stale_warning


class Page(pn.viewable.Viewer):
    """A dashboard page. Subclasses set the class variables and implement `render`."""

    slug: ClassVar[str]  # the name in orchestration.defs.dashboards.PAGES and in the URL
    title: ClassVar[str]
    icon: ClassVar[str]  # a Material icon name
    marts: ClassVar[tuple[str, ...]] = ()  # the published marts it reads
    views: ClassVar[dict[str, str]] = {}  # view name -> tab title; the first is the default

    filters = param.ClassSelector(class_=Filters, doc="The shared global filters.")
    store = param.ClassSelector(class_=Marts, doc="Where the published marts are read.")
    view = param.String(default="", doc="The view shown, on a page with views.")

    def __init__(self, **params: object) -> None:
        if self.views and params.get("view") not in self.views:
            params["view"] = next(iter(self.views))  # unknown or missing: the default view
        super().__init__(**params)
        self._view: pn.viewable.Viewable | None = None
        self._charts: dict[str, ui.ChartSlot] = {}
        self.view_tabs = ui.view_tabs(self.views, self.view) if self.views else None
        if self.view_tabs is not None:
            names = list(self.views)
            self.view_tabs.param.watch(
                lambda event: setattr(self, "view", names[event.new]), "active"
            )

    def extra_dependencies(self) -> list[param.Parameter]:
        """Parameters of the page's own widgets that re-render it too."""
        return []

    def render(self, *values: object) -> pn.viewable.Viewable:
        """The page's content for the current filters."""
        raise NotImplementedError

    def on_show(self) -> None:
        """Called when the page becomes visible (the Live page starts polling)."""

    def on_hide(self) -> None:
        """Called when another page is chosen."""

    def __panel__(self) -> pn.viewable.Viewable:
        if self._view is None:  # built on first display, after subclasses made their widgets
            self._view = pn.panel(
                pn.bind(
                    self.render,
                    self.filters.param.facility,
                    self.filters.param.start,
                    self.filters.param.end,
                    *self.extra_dependencies(),
                    *([self.param.view] if self.views else []),
                ),
                inplace=True,  # update what is shown rather than replace it
                sizing_mode="stretch_width",
            )
            if self.marts:
                facility = self.filters.param.facility
                warning = pn.pane.Alert(
                    pn.bind(self.stale_warning, facility),
                    visible=pn.bind(lambda *_: bool(self.stale_warning()), facility),
                    alert_type="warning",
                    css_classes=["pf-stale"],
                    sizing_mode="stretch_width",
                )
                self._view = pn.Column(warning, self._view, sizing_mode="stretch_width")
        return self._view

    def stale_warning(self, *_: object) -> str:
        """Markdown warning that some marts of the page show their last good data, or ""."""
        status = PublicationStatus(self.store.folder)
        return stale_warning(status.stale(self.marts, self.filters.facility))

    def chart(self, name: str, plot: object, key: str = "") -> pn.pane.HoloViews:
        """The page's chart `name` showing `plot`, updated in place.

        A page showing several charts of one name tells them apart by `key`: their position on
        the page (the in-place update matches what is shown by position).
        """
        slot = self._charts.setdefault(f"{name}/{key}", ui.ChartSlot(name))
        return slot.show(plot)

    def params(self) -> dict[str, object]:
        """The SQL parameters of the global filters."""
        return self.filters.params()

    def scope(self) -> str:
        """`FAC-001, 15 Nov - 21 Nov 2026`: what the page is showing (escaped by the caller)."""
        where = self.filters.facility or "All facilities"
        start, end = self.filters.start, self.filters.end
        if not (start and end):
            return where
        return f"{where}, {start:%d %b} - {end:%d %b %Y}"
