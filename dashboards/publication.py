"""What the dashboards say about publication: stale marts and the latest check outcomes.

Dagster's run-status sensors keep `marts/_status.json` (orchestration/publication.py). When
a mart's newest build was held back by a failing check, the page reading it still shows the
last good file, with a warning naming the mart, when it was published and why the newer
data was held back. When only some facilities were held back (a check failed on their rows),
the warning names them: their figures are the last good ones, the others' are new. The file
is small and read again only when it changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.publication import STATUS_FILE


@dataclass(frozen=True)
class StaleMart:
    """A mart whose newest build was held back: the dashboards show its last good file."""

    mart: str
    published_at: str | None
    blocked_at: str
    reasons: tuple[str, ...]
    facilities: tuple[str, ...] = ()  # only these were held back; empty: the whole mart


class PublicationStatus:
    """`marts/_status.json` of one folder, re-read when the file changes."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / STATUS_FILE
        self._version: tuple[int, int] | None = None
        self._status: dict[str, Any] = {}

    def current(self) -> dict[str, Any]:
        """The status as last written (empty before the first Dagster run)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        version = (stat.st_mtime_ns, stat.st_size)
        if version != self._version:
            try:
                self._status = json.loads(self.path.read_text())
            except (OSError, json.JSONDecodeError):
                return self._status  # being replaced: keep what was read before
            self._version = version
        return self._status

    def stale(self, marts: tuple[str, ...] | list[str], facility: str = "") -> list[StaleMart]:
        """Those of `marts` whose newest build was held back, wholly or for some facilities
        (those only when `facility` is empty, for all facilities, or one of them)."""
        entries = self.current().get("marts", {})
        found = []
        for mart in marts:
            entry = entries.get(mart)
            if not entry:
                continue
            if entry.get("current") is False:
                found.append(
                    StaleMart(
                        mart=mart,
                        published_at=entry.get("published_at"),
                        blocked_at=entry.get("blocked_at", ""),
                        reasons=tuple(entry.get("blocked_by", [])),
                    )
                )
            elif (held := tuple(entry.get("held_facilities") or ())) and (
                not facility or facility in held
            ):
                found.append(
                    StaleMart(
                        mart=mart,
                        published_at=None,
                        blocked_at=entry.get("published_at") or "",
                        reasons=tuple(entry.get("held_by", [])),
                        facilities=held,
                    )
                )
        return found

    def checks(self) -> pd.DataFrame:
        """The latest outcome of every check, failed first: asset, check, outcome, severity,
        description, the failing rows (a markdown table) and when."""
        rows = self.current().get("checks", [])
        columns = ["asset", "check", "passed", "severity", "description", "failing_rows", "at"]
        frame = pd.DataFrame(rows, columns=columns)
        frame["failing_rows"] = frame["failing_rows"].fillna("")
        frame["outcome"] = frame["passed"].map({True: "PASSED", False: "FAILED"})
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        failed_first = frame.sort_values(["passed", "severity", "asset", "check"])
        return failed_first[
            ["asset", "check", "outcome", "severity", "description", "failing_rows", "at"]
        ].reset_index(drop=True)


def _when(moment: str | None) -> str:
    if not moment:
        return "never"
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M UTC")


def stale_warning(stale: list[StaleMart]) -> str:
    """A manager's sentence per stale mart (markdown), or "" when everything is current."""
    lines = []
    for item in stale:
        reasons = "; ".join(item.reasons) or "unknown"
        if item.facilities:
            lines.append(
                f"- **{item.mart}**: the figures of {', '.join(item.facilities)} are their last "
                f"good ones: the build of {_when(item.blocked_at)} held them back by "
                f"data-quality checks ({reasons}); the other facilities' figures are current."
            )
            continue
        lines.append(
            f"- **{item.mart}** shows the data published {_when(item.published_at)}: the "
            f"newer build of {_when(item.blocked_at)} was held back by data-quality checks "
            f"({reasons})."
        )
    if not lines:
        return ""
    return (
        "**Last good data shown.**\n"
        + "\n".join(lines)
        + "\n\nThe failing rows are listed on the Data quality page, under Checks."
    )
