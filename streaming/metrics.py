"""Counters the worker exposes on GET /metrics (Prometheus text format)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

#: name -> (help, type, {labels tuple -> value})
_COUNTERS: dict[str, tuple[str, str, Counter[tuple[tuple[str, str], ...]]]] = {}


def counter(name: str, help_: str) -> Counter[tuple[tuple[str, str], ...]]:
    """A labelled counter, created once."""
    if name not in _COUNTERS:
        _COUNTERS[name] = (help_, "counter", Counter())
    return _COUNTERS[name][2]


def inc(name: str, amount: float = 1, **labels: str) -> None:
    """Add to a counter created with `counter`."""
    _COUNTERS[name][2][tuple(sorted(labels.items()))] += amount


def render(gauges: Iterable[tuple[str, str, dict[tuple[tuple[str, str], ...], float]]] = ()) -> str:
    """The counters, plus `gauges` given as (name, help, {labels: value}), as Prometheus text."""
    lines: list[str] = []
    series = [(n, h, t, v) for n, (h, t, v) in sorted(_COUNTERS.items())]
    series += [(name, help_, "gauge", values) for name, help_, values in gauges]
    for name, help_, kind, values in series:
        lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
        for labels, value in sorted(values.items()):
            text = ",".join(f'{k}="{v}"' for k, v in labels)
            lines.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")
    return "\n".join(lines) + "\n"


counter("parkflow_payloads_total", "Vendor payloads read by normalize, by vendor and outcome.")
counter("parkflow_events_total", "Canonical events published, by type.")
counter("parkflow_sessions_total", "Session rows emitted, by status.")
counter("parkflow_alerts_total", "Alert transitions emitted, by type and state.")
counter("parkflow_sink_rows_total", "Rows written to the lake, by table.")
counter("parkflow_sink_seconds_total", "Seconds spent writing lake files, by table.")
counter(
    "parkflow_ingest_token_uses_total",
    "Authorized ingest requests, by the position of their token in PARKFLOW_INGEST_TOKEN "
    "(while rotating: when the old token's count stops growing, remove it).",
)
counter(
    "parkflow_parser_restarts_total",
    "Parser processes started again after one died (its unanswered batches were parsed in "
    "the worker).",
)
