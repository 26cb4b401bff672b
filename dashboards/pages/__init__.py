"""The dashboard pages, one module each, in menu order (names as in orchestration PAGES)."""

from __future__ import annotations

from dashboards.pages.base import Page
from dashboards.pages.data_quality import DataQualityPage
from dashboards.pages.devices import DevicesPage
from dashboards.pages.live import LivePage
from dashboards.pages.occupancy import OccupancyPage
from dashboards.pages.reports import ReportsPage
from dashboards.pages.revenue import RevenuePage

PAGE_TYPES: dict[str, type[Page]] = {
    page.slug: page
    for page in (LivePage, OccupancyPage, RevenuePage, DevicesPage, DataQualityPage, ReportsPage)
}

__all__ = ["PAGE_TYPES", "Page"]
