"""Whether a running platform has settled, as a manager and a data engineer would see it.

Shared by the end-to-end test of `parkflow up` and `benchmarks/demo_settle.py`:

- `worker_behind`, `caught_up_to_now`: what the worker has still to read (its live API);
- `sensor_runs`: the status of the runs the new-data sensor started (Dagster's GraphQL);
- `page_problems`: every dashboard page and view in a real browser (Debian's chromium, async
  Playwright, so no event loop outlives the call): what is wrong with each, empty when it shows
  data with no "held back" banner; the Live page is online, not catching up, and shows no
  rate above 100% for a facility without a flagged count.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from tests.dashboards.expected import EXPECTED, FILLED_SOURCES_JS, page_query

CHROMIUM = Path("/usr/bin/chromium")
#: Longest a page may take to draw its charts and tables, in ms.
PAGE_TIMEOUT_MS = 45_000

#: Run states a run ends in.
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
SENSOR_RUNS = """
query SensorRuns($limit: Int!) {
  runsOrError(
    filter: {pipelineName: "refresh_marts",
             tags: [{key: "dagster/sensor_name", value: "new_lake_data"}]}
    limit: $limit
  ) { ... on Runs { results { runId status startTime } } }
}
"""


def get_json(url: str, timeout: float = 10) -> dict[str, Any]:
    """GET a JSON document."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def worker_behind(worker_url: str) -> dict[str, Any]:
    """The worker's `backlog` (payloads, batches, catching_up) from its live API."""
    return get_json(worker_url + "/live/occupancy")["backlog"]


def caught_up_to_now(worker_url: str, within_s: float = 300) -> bool:
    """Whether the worker has nothing left to read and has counted events of the last
    `within_s` seconds (live traffic flows: its clock is the wall clock once caught up)."""
    answer = get_json(worker_url + "/live/occupancy")
    behind, newest = answer["backlog"], answer.get("event_time")
    if behind["payloads"] or behind["batches"] or behind["catching_up"] or newest is None:
        return False
    return time.time() - datetime.fromisoformat(newest).timestamp() < within_s


def sensor_runs(dagster_url: str, limit: int = 100) -> list[dict[str, Any]]:
    """The newest runs of `refresh_marts` the sensor `new_lake_data` started, newest first:
    runId, status (QUEUED, STARTED, SUCCESS, FAILURE, ...) and startTime."""
    body = json.dumps({"query": SENSOR_RUNS, "variables": {"limit": limit}}).encode()
    request = urllib.request.Request(
        dagster_url + "/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]["runsOrError"]["results"]


def live_facilities(worker_url: str) -> dict[str, bool]:
    """Each facility the worker counts -> whether one of its counts is flagged."""
    flagged: dict[str, bool] = {}
    for row in get_json(worker_url + "/live/occupancy")["occupancy"]:
        facility = row["facility_id"]
        flagged[facility] = flagged.get(facility, False) or bool(row.get("flagged"))
    return flagged


async def _view_problem(page, dashboard_url: str, key: str) -> str:
    charts, tables = EXPECTED[key]
    await page.goto(f"{dashboard_url}/app?{page_query(key)}", wait_until="networkidle")
    try:
        for name in charts:
            await page.locator(f".pf-chart-{name} canvas").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        for name in tables:
            await page.locator(f".pf-table-{name} .tabulator-row").first.wait_for(
                timeout=PAGE_TIMEOUT_MS
            )
        if charts:
            await page.wait_for_function(
                f"() => ({FILLED_SOURCES_JS})() >= {len(charts)}", timeout=PAGE_TIMEOUT_MS
            )
    except PlaywrightTimeout as exc:  # say which part never filled
        return f"no data ({str(exc).splitlines()[0]})"
    if await page.locator(".pf-content .pf-empty").count():
        return "an empty state is shown"
    if await page.locator(".pf-stale").filter(visible=True).count():
        banner = await page.locator(".pf-stale").filter(visible=True).first.inner_text()
        return f"held-back banner: {banner[:300]}"
    return ""


async def _live_problem(page, dashboard_url: str, worker_url: str) -> str:
    await page.goto(f"{dashboard_url}/app?page=live", wait_until="networkidle")
    state = page.locator(".pf-stream-online, .pf-stream-catching-up, .pf-stream-offline")
    await state.first.wait_for(timeout=PAGE_TIMEOUT_MS)
    if await page.locator(".pf-stream-catching-up").count():
        return "catching up"
    if await page.locator(".pf-stream-offline").count():
        return "stream offline"
    for facility, flagged in sorted(live_facilities(worker_url).items()):
        if flagged:
            continue
        await page.goto(f"{dashboard_url}/app?page=live&facility={facility}")
        note = page.locator(".pf-kpi-inside .pf-note").first
        await note.wait_for(timeout=PAGE_TIMEOUT_MS)
        shown = re.search(r"\(([\d.,]+)%\)", await note.inner_text())
        if shown is None:
            return f"{facility}: no occupancy rate shown"
        if float(shown.group(1).replace(",", "")) > 100:
            return f"{facility}: {shown.group(0)} without a flagged count"
    return ""


async def _page_problems(dashboard_url: str, worker_url: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            checks = {key: partial(_view_problem, page, dashboard_url, key) for key in EXPECTED}
            checks["live"] = partial(_live_problem, page, dashboard_url, worker_url)
            for key, check in checks.items():
                try:
                    problem = await check()
                except PlaywrightError as exc:  # a page that never loaded, a closed page
                    problem = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                if problem:
                    problems[key] = problem
        finally:
            await browser.close()
    return problems


def page_problems(dashboard_url: str, worker_url: str) -> dict[str, str]:
    """Page or page/view -> what is wrong with it; empty when every one shows data."""
    return asyncio.run(_page_problems(dashboard_url, worker_url))
