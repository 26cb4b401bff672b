"""The conformance kit: checks that a source plugin keeps the `SourcePlugin` contract.

Each check is a plain function that returns a one-line summary or raises
`ContractViolation` with what went wrong and on which payload. `check_plugin`
runs them all into a `ConformanceReport` (used by `parkflow plugins check`);
`assert_conformant` and `SourcePluginContract` put them in a vendor's test suite.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from parkflow.events import event_from_json, event_to_json
from parkflow.registry import contract_problems
from parkflow.sdk import PayloadError, SourcePlugin, check_events
from parkflow.testing.fuzz import NASTY_PAYLOADS, mutated_payloads, random_payloads

#: A single parse costing more CPU than this on a fuzz payload is reported (a
#: denial-of-service risk). CPU time of the parsing thread, not wall time: a shared machine
#: that pauses the process for a while (it did, for 1.9 s on a 9-byte payload in CI) is not
#: the plugin's doing, while a runaway regular expression burns CPU either way.
SLOW_PARSE_SECONDS = 1.0
_IGNORED_IN_COMPARISON = {"event_id", "ingested_at"}
#: Round trips render local times in a zone with DST, to catch offset mistakes.
ROUND_TRIP_TZ = ZoneInfo("Europe/Amsterdam")


class ContractViolation(AssertionError):
    """A plugin broke the contract; the message says how and on which payload."""


@dataclass(frozen=True)
class Options:
    """Knobs of a conformance run."""

    fuzz_examples: int = 300
    seed: int = 0


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check."""

    name: str
    passed: bool
    detail: str
    seconds: float


@dataclass
class ConformanceReport:
    """Outcome of every check for one plugin."""

    plugin: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(result.passed for result in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        """The checks that failed."""
        return [result for result in self.results if not result.passed]

    def format(self) -> str:
        """A plain-text report, one line per check."""
        lines = [f"conformance of plugin {self.plugin!r}:"]
        for result in self.results:
            mark = "PASS" if result.passed else "FAIL"
            lines.append(f"  {mark}  {result.name:<18} {result.detail}")
        return "\n".join(lines)


def _short(payload: bytes, limit: int = 120) -> str:
    text = repr(payload)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(payload)} bytes)"


def _comparable(event: Any) -> dict[str, Any]:
    return event.model_dump(mode="json", exclude=_IGNORED_IN_COMPARISON)


def parse_outcome(plugin: SourcePlugin, payload: bytes) -> str | None:
    """None when `parse` kept the contract on `payload`, else what it did wrong.

    Keeping the contract means: valid canonical events (re-validated through
    JSON, so events built without validation are caught), or a `PayloadError`
    with a readable reason; never another exception, never a slow parse.
    """
    started = time.thread_time()
    try:
        events = check_events(plugin, plugin.parse(payload))
        for event in events:
            event_from_json(event_to_json(event))
    except PayloadError as exc:
        reason = exc.reason
        if not isinstance(reason, str) or not reason.strip():
            return f"PayloadError without a reason on {_short(payload)}"
        if len(reason) > 1000 or "Traceback (most recent call last)" in reason:
            return f"PayloadError reason is not a short message ({len(reason)} chars)"
    except Exception as exc:
        return f"raised {type(exc).__name__}: {str(exc)[:200]} on {_short(payload)}"
    elapsed = time.thread_time() - started
    if elapsed > SLOW_PARSE_SECONDS:
        return f"took {elapsed:.1f} s of CPU to parse {_short(payload)}"
    return None


# --- the checks -----------------------------------------------------------------------------


def check_metadata(plugin: SourcePlugin, options: Options) -> str:
    """name, vendor and content_type are declared and well formed."""
    problems = contract_problems(type(plugin))
    if problems:
        raise ContractViolation("; ".join(problems))
    return f"{plugin.name} by {plugin.vendor} ({plugin.content_type})"


def check_samples(plugin: SourcePlugin, options: Options) -> str:
    """Every bundled sample parses into valid events from this source."""
    samples = plugin.samples()
    if not samples:
        raise ContractViolation(f"no sample payloads in {plugin.samples_dir}")
    count = 0
    for sample in samples:
        try:
            events = check_events(plugin, plugin.parse(sample.payload))
            for event in events:
                event_from_json(event_to_json(event))
        except Exception as exc:
            raise ContractViolation(f"sample {sample.name}: {type(exc).__name__}: {exc}") from exc
        if not events:
            raise ContractViolation(f"sample {sample.name} gave no events")
        count += len(events)
    return f"{len(samples)} samples -> {count} events"


def check_invalid_samples(plugin: SourcePlugin, options: Options) -> str:
    """Every bundled invalid sample raises PayloadError with a reason."""
    samples = plugin.invalid_samples()
    for sample in samples:
        try:
            plugin.parse(sample.payload)
        except PayloadError as exc:
            if not exc.reason.strip():
                raise ContractViolation(f"invalid sample {sample.name}: empty reason") from exc
            continue
        except Exception as exc:
            raise ContractViolation(
                f"invalid sample {sample.name} raised {type(exc).__name__}, not PayloadError"
            ) from exc
        raise ContractViolation(f"invalid sample {sample.name} was accepted")
    return f"{len(samples)} rejected with a reason" if samples else "none bundled"


def check_garbage(plugin: SourcePlugin, options: Options) -> str:
    """Empty and nasty payloads raise PayloadError (or yield valid events), nothing else."""
    try:
        plugin.parse(b"")
    except PayloadError:
        pass
    except Exception as exc:
        raise ContractViolation(f"empty payload raised {type(exc).__name__}") from exc
    else:
        raise ContractViolation("an empty payload was accepted")
    for payload in NASTY_PAYLOADS:
        problem = parse_outcome(plugin, payload)
        if problem:
            raise ContractViolation(problem)
    return f"{len(NASTY_PAYLOADS) + 1} hostile payloads handled"


def check_determinism(plugin: SourcePlugin, options: Options) -> str:
    """The same bytes give the same event ids and content every time."""
    for sample in plugin.samples():
        first, second = plugin.parse(sample.payload), plugin.parse(sample.payload)
        if [e.event_id for e in first] != [e.event_id for e in second]:
            raise ContractViolation(f"sample {sample.name}: event ids differ between two parses")
        if [_comparable(e) for e in first] != [_comparable(e) for e in second]:
            raise ContractViolation(f"sample {sample.name}: events differ between two parses")
    return "same bytes -> same event ids"


def check_round_trip(plugin: SourcePlugin, options: Options) -> str:
    """parse(simulate(events)) gives the events back (plugins that simulate)."""
    if not plugin.simulates:
        return "skipped: plugin does not simulate"
    checked = 0
    for sample in plugin.samples():
        events = plugin.parse(sample.payload)
        if not events or any(e.event_type not in plugin.simulates for e in events):
            continue
        try:
            rendered = plugin.simulate(events, tz=ROUND_TRIP_TZ)
            again = plugin.parse(rendered)
        except Exception as exc:
            raise ContractViolation(f"sample {sample.name}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(rendered, bytes):
            raise ContractViolation(f"simulate() returned {type(rendered).__name__}, not bytes")
        if [_comparable(e) for e in events] != [_comparable(e) for e in again]:
            raise ContractViolation(f"sample {sample.name}: events changed through simulate/parse")
        checked += 1
    if not checked:
        raise ContractViolation("no sample has only event types listed in `simulates`")
    return f"{checked} samples survive simulate -> parse"


def _fuzz(plugin: SourcePlugin, strategy: st.SearchStrategy[bytes], options: Options) -> str:
    problems: list[str] = []

    @seed(options.seed)
    @settings(
        max_examples=options.fuzz_examples,
        database=None,
        deadline=None,
        derandomize=False,
        print_blob=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(payload: bytes) -> None:
        problem = parse_outcome(plugin, payload)
        if problem:
            problems.append(problem)
            raise ContractViolation(problem)

    try:
        run()
    except Exception:  # one failure, or a group of distinct ones
        if not problems:
            raise
        raise ContractViolation(problems[-1]) from None  # the last one tried is the smallest
    return f"{options.fuzz_examples} payloads: only PayloadError or valid events"


def check_fuzz_random(plugin: SourcePlugin, options: Options) -> str:
    """Random bytes, text and JSON documents never raise anything but PayloadError."""
    return _fuzz(plugin, random_payloads(), options)


def check_fuzz_mutated(plugin: SourcePlugin, options: Options) -> str:
    """Mutated samples never raise anything but PayloadError."""
    samples = [sample.payload for sample in plugin.samples()]
    if not samples:
        raise ContractViolation("no samples to mutate")
    return _fuzz(plugin, mutated_payloads(samples), options)


Check = Callable[[SourcePlugin, Options], str]
CHECKS: dict[str, Check] = {
    "metadata": check_metadata,
    "samples": check_samples,
    "invalid samples": check_invalid_samples,
    "hostile payloads": check_garbage,
    "determinism": check_determinism,
    "round trip": check_round_trip,
    "fuzz random": check_fuzz_random,
    "fuzz mutated": check_fuzz_mutated,
}


def run_check(name: str, plugin: SourcePlugin, options: Options) -> CheckResult:
    """Run one named check and time it."""
    started = time.perf_counter()
    try:
        detail, passed = CHECKS[name](plugin, options), True
    except ContractViolation as exc:
        detail, passed = str(exc), False
    except Exception as exc:  # a crash inside a check is a failure of the plugin, reported
        detail, passed = f"check crashed: {type(exc).__name__}: {exc}", False
    return CheckResult(name, passed, detail, time.perf_counter() - started)


def check_plugin(
    plugin: SourcePlugin,
    *,
    fuzz_examples: int = 300,
    seed: int = 0,
    checks: Sequence[str] | None = None,
) -> ConformanceReport:
    """Run the conformance checks (all, or the named ones) against a plugin instance."""
    options = Options(fuzz_examples=fuzz_examples, seed=seed)
    report = ConformanceReport(plugin.name)
    for name in checks or CHECKS:
        report.results.append(run_check(name, plugin, options))
    return report


def assert_conformant(
    plugin: SourcePlugin | type[SourcePlugin], *, fuzz_examples: int = 300, seed: int = 0
) -> ConformanceReport:
    """One call for a vendor's test suite: raise AssertionError with the report on failure."""
    instance = plugin() if isinstance(plugin, type) else plugin
    report = check_plugin(instance, fuzz_examples=fuzz_examples, seed=seed)
    if not report.passed:
        raise ContractViolation(report.format())
    return report
