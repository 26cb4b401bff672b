"""A real streaming worker process on a real embedded broker, for the integration tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from parkflow.broker import EmbeddedBroker, free_port

VENV_BIN = Path(sys.executable).parent
INGEST_TOKEN = "test-ingest-token-0123456789"
PLATE_KEY = "k" * 32


class WorkerProcess:
    """`parkflow worker` as a subprocess, with its data dir and web port."""

    def __init__(self, bootstrap: str, data_dir: Path) -> None:
        self.bootstrap = bootstrap
        self.data_dir = data_dir
        self.port = free_port()
        self.log = data_dir / "worker.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> WorkerProcess:
        env = {**os.environ, "PARKFLOW_KAFKA_BOOTSTRAP": self.bootstrap,
               "PARKFLOW_DATA_DIR": str(self.data_dir), "PARKFLOW_PLATE_KEY": PLATE_KEY,
               "PARKFLOW_SINK_FLUSH_S": "0.5", "PARKFLOW_INGEST_TOKEN": INGEST_TOKEN}  # fmt: skip
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [VENV_BIN / "parkflow", "worker", "--web-port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-3000:]}")
            try:
                health = self.get("/health")
                if health.get("assigned_partitions"):
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"worker not ready: {self.log.read_text()[-3000:]}")

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return json.loads(response.read())

    def request(self, method: str, path: str, body: bytes = b"", token: str | None = None):
        """(status, parsed JSON or text) of an HTTP call to the worker."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        call = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(call, timeout=15) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode()

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture(scope="module")
def stream_broker():
    """A broker of the module's own, so topics and consumer groups start empty."""
    with EmbeddedBroker() as broker:
        yield broker


@pytest.fixture(scope="module")
def worker(stream_broker, tmp_path_factory):
    process = WorkerProcess(stream_broker.bootstrap, tmp_path_factory.mktemp("worker")).start()
    yield process
    process.stop()
