"""What the dashboards are told about publication: `marts/_status.json`.

After every run, each mart the run meant to publish is either current (published now) or
stale (its last good file stays, and the reasons say why: the failing checks, or an
upstream failure). A current mart may hold back some facilities (`held_facilities`: their
last published rows stay) with the checks that held them (`held_by`). The latest outcome of
every check is kept too, so the dashboards can show check results without opening Dagster.
Plain functions, no Dagster imports: the sensors in `defs/status.py` feed them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATUS_FILE = "_status.json"


@dataclass(frozen=True)
class CheckResult:
    """One check evaluation of a run."""

    asset: str
    check: str
    passed: bool
    severity: str  # ERROR or WARN
    description: str = ""
    failing_rows: str = ""  # a markdown table of the first failing rows ("" when it passed)


@dataclass(frozen=True)
class RunOutcome:
    """What one run meant to publish, what it published, and its check results."""

    run_id: str
    job: str
    status: str
    finished_at: str
    planned: set[str] = field(default_factory=set)
    published: set[str] = field(default_factory=set)
    checks: list[CheckResult] = field(default_factory=list)
    held: dict[str, list[str]] = field(default_factory=dict)  # mart -> facilities held back


def blocked_reasons(outcome: RunOutcome, mart: str) -> list[str]:
    """Why `mart` was not published by the run: its own failed ERROR checks, else upstream."""
    failed = [c for c in outcome.checks if not c.passed and c.severity == "ERROR"]
    own = [
        f"{c.check}: {c.description}" if c.description else c.check
        for c in failed
        if c.asset == mart
    ]
    if own:
        return own
    upstream = ", ".join(f"{c.asset} {c.check}" for c in failed)
    if upstream:
        return [f"held back: blocking checks failed upstream ({upstream})"]
    return [f"held back: a step upstream failed in run {outcome.run_id}"]


def merge_status(previous: dict[str, Any], outcome: RunOutcome) -> dict[str, Any]:
    """The status after `outcome`, starting from the previous one (entries not touched stay)."""
    marts = dict(previous.get("marts", {}))
    for mart in sorted(outcome.planned):
        entry = dict(marts.get(mart, {}))
        if mart in outcome.published:
            entry.update(current=True, published_at=outcome.finished_at, blocked_by=[])
            entry.pop("blocked_at", None)
            held = outcome.held.get(mart, [])
            reasons = [
                f"{c.check}: {c.description}" if c.description else c.check
                for c in outcome.checks
                if held and c.asset == mart and not c.passed
            ]
            entry.update(held_facilities=held, held_by=reasons)
        else:
            entry.setdefault("published_at", None)
            entry.update(
                current=False,
                blocked_at=outcome.finished_at,
                blocked_by=blocked_reasons(outcome, mart),
            )
        marts[mart] = entry
    checks = {(c["asset"], c["check"]): c for c in previous.get("checks", [])}
    for c in outcome.checks:
        checks[(c.asset, c.check)] = {
            "asset": c.asset,
            "check": c.check,
            "passed": c.passed,
            "severity": c.severity,
            "description": c.description,
            "failing_rows": "" if c.passed else c.failing_rows,
            "run_id": outcome.run_id,
            "at": outcome.finished_at,
        }
    return {
        "updated_at": outcome.finished_at,
        "last_run": {
            "run_id": outcome.run_id,
            "job": outcome.job,
            "status": outcome.status,
            "finished_at": outcome.finished_at,
        },
        "marts": marts,
        "checks": [checks[key] for key in sorted(checks)],
    }


def read_status(marts_dir: Path) -> dict[str, Any]:
    """The current status, or an empty one before the first run."""
    try:
        return json.loads((marts_dir / STATUS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_status(marts_dir: Path, status: dict[str, Any]) -> Path:
    """Write the status atomically (temporary file + rename), as the marts are."""
    marts_dir.mkdir(parents=True, exist_ok=True)
    final = marts_dir / STATUS_FILE
    temporary = marts_dir / f".{STATUS_FILE}.tmp"
    temporary.write_text(json.dumps(status, indent=2))
    os.replace(temporary, final)
    return final
