"""`parkflow worker` as a real subprocess on a real broker, for tests and benchmarks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from parkflow.broker import free_port

VENV_BIN = Path(sys.executable).parent
INGEST_TOKEN = "test-ingest-token-0123456789"
PLATE_KEY = "k" * 32


class WorkerProcess:
    """`parkflow worker` as a subprocess (its own process group), with its data dir and port."""

    def __init__(self, bootstrap: str, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.bootstrap = bootstrap
        self.data_dir = data_dir
        self.env = env or {}
        self.port = free_port()
        self.log = data_dir / "worker.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Base URL of the worker's web server."""
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> WorkerProcess:
        """Start the process and return at once (see `wait_ready`)."""
        env = {
            **os.environ,
            "PARKFLOW_KAFKA_BOOTSTRAP": self.bootstrap,
            "PARKFLOW_DATA_DIR": str(self.data_dir),
            "PARKFLOW_PLATE_KEY": PLATE_KEY,
            "PARKFLOW_SINK_FLUSH_S": os.environ.get("PARKFLOW_SINK_FLUSH_S", "0.5"),
            "PARKFLOW_INGEST_TOKEN": INGEST_TOKEN,
            **self.env,
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [VENV_BIN / "parkflow", "worker", "--web-port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 90) -> WorkerProcess:
        """Block until the worker owns partitions; raise if it exits or takes too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-3000:]}")
            try:
                if self.get("/health").get("assigned_partitions"):
                    return self
            except OSError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"worker not ready: {self.log.read_text()[-3000:]}")

    def start(self, timeout: float = 90) -> WorkerProcess:
        """Start the worker and wait until it owns partitions."""
        return self.spawn().wait_ready(timeout)

    def get(self, path: str) -> dict:
        """GET a JSON endpoint of the worker."""
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return json.loads(response.read())

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        token: str | None = None,
        timeout: float = 15,
    ) -> tuple[int, dict | str]:
        """(status, parsed JSON or text) of an HTTP call to the worker."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        call = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(call, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode()

    def consumer_lag(self) -> dict[str, float]:
        """The worker's consumer lag per topic, from its Prometheus `/metrics`."""
        _, text = self.request("GET", "/metrics", timeout=10)
        pattern = re.compile(r'^parkflow_consumer_lag\{topic="([^"]+)"\} ([0-9.e+]+)$', re.M)
        return {topic: float(value) for topic, value in pattern.findall(str(text))}

    def rss_mib(self) -> float:
        """Resident memory of the worker process now, in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024

    def stop(self) -> int:
        """SIGTERM, then SIGKILL of the whole group after 30 s; the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (a crash) and reap it."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
