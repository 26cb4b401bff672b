"""The app around the pages: the ParkFlow template, the menu, the global filters, the URL.

One `Shell` per browser session. Pages are built the first time they are shown and kept, so
going back to a page is instant and keeps its own choices.
"""

from __future__ import annotations

from datetime import UTC, datetime

import panel as pn
import panel_material_ui as pmui
from panel.util import edit_readonly

from dashboards import ui
from dashboards.data import Marts
from dashboards.filters import (
    Filters,
    date_bounds,
    dates_widget,
    facility_choices,
    facility_widget,
    initial_filters,
)
from dashboards.pages import PAGE_TYPES, Page

TITLE = "ParkFlow"
DEFAULT_PAGE = "live"
PAGE_OPTIONS = {  # URL -> page params
    "occupancy": ("view",),
    "revenue": ("view",),
    "devices": ("severity", "state"),
    "reports": ("report",),
}


class AppPage(pmui.Page):
    """The Material UI page, without its busy bar.

    The page follows Panel's busy state, which flips twice around every server callback; each
    flip sent the page's state again and walked every model on it: about a quarter of the
    server's time in a filter change. Setting `busy` once unlinks it.
    """

    def __init__(self, **params: object) -> None:
        super().__init__(busy_indicator=None, **params)
        with edit_readonly(self):
            self.busy = False


def session_query() -> dict[str, str]:
    """The URL query of the current browser session (first value of each key)."""
    args = pn.state.session_args or {}
    return {
        key: values[0].decode("utf-8", "replace")
        for key, values in args.items()
        if values and isinstance(values[0], bytes)
    }


class Shell:
    """The whole app for one browser session."""

    def __init__(self, store: Marts, query: dict[str, str] | None = None) -> None:
        self.store = store
        self.query = dict(query or {})
        self.filters: Filters = initial_filters(store, self.query)
        self.pages: dict[str, Page] = {}
        self.slugs = list(PAGE_TYPES)
        start = self.query.get("page", DEFAULT_PAGE)
        self.current = start if start in PAGE_TYPES else DEFAULT_PAGE
        self.content = pn.Column(sizing_mode="stretch_width", css_classes=["pf-content"])
        self.menu = pmui.MenuList(
            items=[{"label": t.title, "icon": t.icon} for t in PAGE_TYPES.values()],
            active=self.slugs.index(self.current),
            dense=False,
            sizing_mode="stretch_width",
        )
        self.menu.param.watch(self._on_menu, "active")
        bounds = date_bounds(store)
        self.facility = facility_widget(self.filters, facility_choices(store))
        self.dates = dates_widget(self.filters, bounds)
        self.filters.param.watch(self._update_url, ["facility", "start", "end"])
        self._show(self.current)

    def page(self, slug: str) -> Page:
        """The page of that name, built on first use."""
        if slug not in self.pages:
            options = {k: self.query[k] for k in PAGE_OPTIONS.get(slug, ()) if k in self.query}
            page = PAGE_TYPES[slug](filters=self.filters, store=self.store, **options)
            if page.views:
                page.param.watch(self._update_url, "view")
            self.pages[slug] = page
        return self.pages[slug]

    def _show(self, slug: str) -> None:
        if slug != self.current and self.current in self.pages:
            self.pages[self.current].on_hide()
        self.current = slug
        page = self.page(slug)
        self.content.objects = [
            pmui.Typography(ui.esc(page.title), variant="h4", margin=(8, 8, 0, 8)),
            page,
        ]
        page.on_show()

    def _on_menu(self, event: object) -> None:
        active = self.menu.active
        index = active[0] if isinstance(active, tuple | list) else active
        if index is None or not 0 <= index < len(self.slugs):
            return
        slug = self.slugs[index]
        if slug != self.current:
            self._show(slug)
            self._update_url()

    def _update_url(self, *_: object) -> None:
        location = pn.state.location
        if location is None:
            return
        location.update_query(
            page=self.current,
            facility=self.filters.facility,
            start=str(self.filters.start or ""),
            end=str(self.filters.end or ""),
            view=self.page(self.current).view,  # "" on a page without views
        )

    def freshness(self) -> str:
        """When the marts were last published (the newest file)."""
        times = [
            self.store.path(mart).stat().st_mtime
            for page in PAGE_TYPES.values()
            for mart in page.marts
            if self.store.available(mart)
        ]
        if not times:
            return "No history published yet."
        newest = datetime.fromtimestamp(max(times), UTC).astimezone()
        return f"History published {newest:%d %b %H:%M %Z}."

    def view(self) -> pmui.Page:
        """The template with the menu and filters in the sidebar."""
        sidebar = [
            pmui.Typography("Filters", variant="overline", margin=(8, 8, 0, 8)),
            self.facility,
            self.dates,
            pmui.Divider(),
            self.menu,
            pmui.Divider(),
            pmui.Typography(ui.esc(self.freshness()), variant="caption", margin=(8, 12)),
        ]
        return AppPage(
            title=TITLE,
            sidebar=sidebar,
            main=[self.content],
            sidebar_width=280,
        )
