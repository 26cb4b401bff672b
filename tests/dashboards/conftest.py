"""A published simulated week, the dashboards served from it, and Debian's chromium.

Once per session: `parkflow lake build` (7 days, 3 facilities), `dbt build`, and every mart
published to `marts/` as Dagster would; then `panel serve dashboards/app.py` on a free port,
pointed at a worker port that is reserved but not started (the Live page shows the stream
offline until `test_live.py` starts a real worker there).

`PARKFLOW_DASHBOARD_TEST_DATA=<dir>` reuses a data dir built earlier (with `marts/` in it)
and skips the build: handy while working on the pages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from parkflow.broker import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1400, "height": 900}
SCREENSHOTS = ROOT / "docs" / "img"
PAGES = ["live", "occupancy", "revenue", "devices", "data_quality", "reports"]


def build_marts(data_dir: Path) -> Path:
    """Lake, warehouse and published marts of a simulated week at three facilities."""
    from orchestration.defs.dbt import mart_names, publish_order
    from orchestration.publish import publish_table

    env = {**os.environ, "PARKFLOW_DATA_DIR": str(data_dir)}
    run = {"env": env, "cwd": ROOT, "check": True, "capture_output": True}
    lake = [BIN / "parkflow", "lake", "build", "--days", "7", "--facilities", "3", "--seed", "7"]
    subprocess.run(lake, **run)
    dbt = [
        BIN / "dbt",
        "build",
        "--project-dir",
        "dbt_project",
        "--profiles-dir",
        "dbt_project",
        "--target-path",
        data_dir / "target",
        "--log-path",
        data_dir / "logs",
    ]
    subprocess.run(dbt, **run)
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        for mart in mart_names():
            publish_table(con, mart, data_dir / "marts", publish_order(mart))
    return data_dir / "marts"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose `marts/` holds every published mart."""
    reuse = os.environ.get("PARKFLOW_DASHBOARD_TEST_DATA")
    if reuse:
        return Path(reuse).resolve()
    folder = tmp_path_factory.mktemp("dashboard-data")
    build_marts(folder)
    return folder


@pytest.fixture(scope="session")
def marts_dir(data_dir: Path) -> Path:
    """`<data dir>/marts`."""
    return data_dir / "marts"


def query_marts(marts_dir: Path, sql: str, params: dict | None = None) -> list[tuple]:
    """Rows of `sql` where `mart_x` reads `marts/mart_x.parquet` (the tests' own reading)."""
    with duckdb.connect() as con:
        for path in marts_dir.glob("*.parquet"):
            con.read_parquet(str(path)).create_view(path.stem)
        return con.execute(sql, params or {}).fetchall()


@dataclass
class Server:
    """`panel serve dashboards/app.py` as a subprocess."""

    data_dir: Path
    worker_port: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/app"

    def start(self, timeout: float = 60) -> Server:
        env = {
            **os.environ,
            "PARKFLOW_DATA_DIR": str(self.data_dir),
            "PARKFLOW_WORKER_URL": f"http://127.0.0.1:{self.worker_port}",
        }
        log = (self.data_dir / f"panel-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [
                BIN / "panel",
                "serve",
                ROOT / "dashboards" / "app.py",
                "--port",
                str(self.port),
                "--address",
                "127.0.0.1",
                "--num-procs",
                "1",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"panel serve exited {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("panel serve did not answer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="session")
def worker_port() -> int:
    """Where the dashboards look for the worker; nothing listens there until test_live."""
    return free_port()


@pytest.fixture(scope="session")
def dashboard(data_dir: Path, worker_port: int) -> Iterator[Server]:
    """The dashboards served from the published week."""
    server = Server(data_dir, worker_port).start()
    yield server
    server.stop()


# --- Playwright on Debian's chromium (never `playwright install`) ------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's chromium, offline-friendly flags."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed: `make browser`")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": args}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A fixed viewport (screenshots) and downloads allowed."""
    return {**browser_context_args, "viewport": VIEWPORT, "accept_downloads": True}


@dataclass
class Watch:
    """Console errors, failed requests, dialogs and requests leaving the machine."""

    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"
        assert not self.external, f"requests leaving the machine: {self.external}"


@pytest.fixture
def watch(page) -> Iterator[Watch]:
    """Record what goes wrong in the page; the test fails on any of it."""
    seen = Watch()
    page.on("console", lambda m: seen.errors.append(m.text[:500]) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)[:500]))
    page.on(
        "requestfailed",
        lambda r: None if _cancelled(r.failure) else seen.failed.append(f"{r.url} {r.failure}"),
    )
    page.on("request", lambda r: None if _local(r.url) else seen.external.append(r.url))

    def dialog(d) -> None:
        seen.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    yield seen
    seen.assert_clean()


def _cancelled(failure: str | None) -> bool:
    """A request the browser itself dropped because the page navigated away (a font still
    loading, say): not a failure of the server. A missing file is a 404 response and a dead
    server a connection error, and both still count."""
    return failure == "net::ERR_ABORTED"


def _local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:"))


def open_page(page, server: Server, query: str, timeout: float = 30_000):
    """Load `?{query}` and wait until the page's content (not just the shell) is there."""
    page.goto(f"{server.url}?{query}")
    page.locator(".pf-content").first.wait_for(timeout=timeout)
    page.locator(
        ".pf-content .pf-kpi, .pf-content .pf-empty, .pf-content .pf-stream-offline, "
        ".pf-content .pf-stream-online"
    ).first.wait_for(timeout=timeout)
    # fonts and bundles still loading would be aborted by the next navigation
    page.wait_for_load_state("networkidle")
    return page


def kpi_value(page, slug: str) -> str:
    """The text of a headline number (`.pf-kpi-<slug>`), as shown now ('' while drawing)."""
    value = page.locator(f".pf-kpi-{slug} .pf-value").first
    return value.inner_text().strip() if value.count() else ""


def wait_for_kpi(page, slug: str, other_than: str = "", timeout: float = 30) -> str:
    """The headline number once it is drawn (and differs from `other_than`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = kpi_value(page, slug)
        if value and value != other_than:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"{slug} stayed {kpi_value(page, slug)!r}")


def screenshot(page, name: str) -> None:
    """docs/img/<name>.png when PARKFLOW_SCREENSHOTS=1 (fixed viewport, not the full page)."""
    if os.environ.get("PARKFLOW_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(500)  # let the charts finish drawing
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
