"""A crash drill: SIGKILL the streaming worker at random moments during a replay, restart it
each time, measure how long it takes to catch up, and check the lake at the end.

Shared by `tests/reliability/test_worker_crash.py` (a few kills) and
`benchmarks/crash_recovery.py` (the full drill). The replay goes to the raw topics at a
fixed rate from a background thread, so the worker is killed while it has work in flight.
Kill moments are seeded: one random moment in each of `kills` equal slots of the replay,
and never sooner than `steady_s` after the previous restart caught up (so each kill finds a
worker that keeps up with its input, and measures one recovery, not a pile of them).

Recovery of a kill = from the restart (the new process is spawned) until every event of
every payload sent before the restart is in the lake.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from parkflow.lake import table_files
from parkflow.records import SessionStatus
from parkflow.registry import PluginRegistry
from parkflow.simulator import KafkaSink
from parkflow.simulator.transport import Payload
from tests.lake_check import (
    SessionCheck,
    check_sessions,
    expected_events,
    lake_sessions,
    payload_events,
)
from tests.paced_producer import PacedProducer
from tests.waiting import wait_for
from tests.worker_process import WorkerProcess


class LakeIds:
    """The ids of a lake table, read incrementally: lake files never change once they are
    there, so each file is read once."""

    def __init__(self, data_dir: Path, table: str, column: str) -> None:
        self.data_dir = data_dir
        self.table = table
        self.column = column
        self.ids: set[str] = set()
        self.rows = 0
        self._read: set[Path] = set()

    def refresh(self) -> set[str]:
        """Read the files that appeared since the last call; every id seen so far."""
        for path in table_files(self.data_dir, self.table):
            if path not in self._read:
                values = pq.read_table(path, columns=[self.column]).column(0).to_pylist()
                self.ids.update(values)
                self.rows += len(values)
                self._read.add(path)
        return self.ids


@dataclass
class Recovery:
    """One kill and the restart after it."""

    killed_at_s: float  # since the replay started
    backlog: int  # payloads sent before the restart whose events were not all in the lake yet
    ready_s: float  # restart -> the new worker owns partitions
    caught_up_s: float  # restart -> every event sent before the restart is in the lake


@dataclass
class DrillResult:
    """What a drill did and what the lake held at the end."""

    payloads: int
    events: int
    recoveries: list[Recovery] = field(default_factory=list)
    event_rows: int = 0  # rows in lake/raw/events, re-deliveries included
    missing_events: int = 0
    open_at_kills: int = 0  # sessions open in the lake at some kill...
    closed_after: int = 0  # ...and closed by a restarted worker
    sessions: SessionCheck = field(default_factory=SessionCheck)
    seconds: float = 0.0

    def recovery_summary(self) -> str:
        """Median and max of the recovery times."""
        if not self.recoveries:
            return "no kills"
        caught = [r.caught_up_s for r in self.recoveries]
        ready = [r.ready_s for r in self.recoveries]
        return (
            f"restart -> caught up: median {statistics.median(caught):.1f} s, max "
            f"{max(caught):.1f} s (restart -> partitions assigned: median "
            f"{statistics.median(ready):.1f} s, max {max(ready):.1f} s)"
        )


class CrashDrill:
    """Runs one drill against a broker, with a data dir of its own."""

    def __init__(
        self,
        bootstrap: str,
        data_dir: Path,
        payloads: list[Payload],
        registry: PluginRegistry,
        *,
        kills: int,
        rate: float,
        seed: int,
        partitions: int = 4,
        steady_s: float = 5.0,
        log=print,
    ) -> None:
        self.bootstrap = bootstrap
        self.data_dir = data_dir
        self.payloads = payloads
        self.registry = registry
        self.kills = kills
        self.rate = rate
        self.rng = random.Random(seed)
        self.partitions = partitions
        self.steady_s = steady_s
        self.log = log
        self.event_ids = payload_events(payloads, registry)
        self.lake = LakeIds(data_dir, "events", "event_id")
        self.confirmed = 0  # payloads[:confirmed] are all in the lake
        self.worker: WorkerProcess | None = None

    def kill_moments(self) -> list[float]:
        """One random moment (s after the replay starts) in each of `kills` equal slots."""
        slot = len(self.payloads) / self.rate / self.kills
        return [(k + self.rng.uniform(0.2, 0.8)) * slot for k in range(self.kills)]

    def _landed(self, sent: int) -> bool:
        """True once every event of payloads[:sent] is in the lake."""
        ids = self.lake.refresh()
        while self.confirmed < sent and all(i in ids for i in self.event_ids[self.confirmed]):
            self.confirmed += 1
        return self.confirmed >= sent

    def _open_sessions(self) -> set[str]:
        return {
            i for i, s in lake_sessions(self.data_dir).items() if s.status is SessionStatus.OPEN
        }

    def run(self, timeout: float, settle_s: float = 120) -> DrillResult:
        """Replay, kill and restart (each restart must catch up within `timeout` s), then wait
        for every event in the lake (`timeout`) and for the sessions to settle (`settle_s`)."""
        started = time.monotonic()
        result = DrillResult(len(self.payloads), len({i for ids in self.event_ids for i in ids}))
        open_at_kills: set[str] = set()
        self.worker = WorkerProcess(self.bootstrap, self.data_dir).start()
        producer = PacedProducer(
            KafkaSink(self.bootstrap, self.partitions), self.payloads, self.rate, self.registry
        )
        producer.start()
        try:
            steady_from = 0.0
            for moment in self.kill_moments():
                wait_for(lambda: producer.started_at is not None, timeout=60, every=0.05)
                due = max(producer.started_at + moment, steady_from + self.steady_s)
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                killed_at = time.monotonic() - producer.started_at
                self.worker.kill()
                self.worker = WorkerProcess(self.bootstrap, self.data_dir).spawn()
                restarted, sent = time.monotonic(), producer.sent
                self._landed(sent)
                backlog = sent - self.confirmed
                open_at_kills |= self._open_sessions()
                self.worker.wait_ready()
                ready = time.monotonic() - restarted
                if not wait_for(lambda s=sent: self._landed(s), timeout=timeout, every=0.2):
                    raise TimeoutError(f"the worker did not catch up within {timeout:.0f} s")
                steady_from = time.monotonic()
                recovery = Recovery(killed_at, backlog, ready, steady_from - restarted)
                result.recoveries.append(recovery)
                self.log(
                    f"kill {len(result.recoveries)} at {killed_at:.1f} s: backlog {backlog} "
                    f"payloads, partitions after {ready:.1f} s, caught up after "
                    f"{recovery.caught_up_s:.1f} s"
                )
            if not producer.finish(timeout):
                raise TimeoutError("the replay did not finish")
            if producer.error is not None:
                raise producer.error
            wait_for(lambda: self._landed(len(self.payloads)), timeout=timeout, every=0.5)
            events = expected_events(self.payloads, self.registry)
            wait_for(lambda: check_sessions(self.data_dir, events).ok, timeout=settle_s, every=2)
            result.sessions = check_sessions(self.data_dir, events)
        finally:
            producer.stop()
            self.worker.stop()
        expected_ids = {i for ids in self.event_ids for i in ids}
        result.missing_events = len(expected_ids - self.lake.refresh())
        result.event_rows = self.lake.rows
        closed = lake_sessions(self.data_dir)
        result.open_at_kills = len(open_at_kills)
        result.closed_after = sum(
            1 for i in open_at_kills if i in closed and closed[i].status is SessionStatus.CLOSED
        )
        result.seconds = time.monotonic() - started
        return result
