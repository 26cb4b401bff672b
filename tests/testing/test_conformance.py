"""The conformance kit itself: it passes a good plugin and catches each kind of broken one."""

import time

import pytest

from parkflow.registry import PluginRegistry
from parkflow.testing import CHECKS, ContractViolation, assert_conformant, check_plugin
from parkflow.testing.conformance import SLOW_PARSE_SECONDS, parse_outcome
from tests.core import fake_plugins


def failures(plugin, examples: int = 150) -> dict[str, str]:
    report = check_plugin(plugin, fuzz_examples=examples, seed=1)
    return {result.name: result.detail for result in report.failures}


def test_a_good_plugin_passes_every_check():
    report = check_plugin(fake_plugins.GoodPlugin(), fuzz_examples=150)
    assert report.passed, report.format()
    assert [r.name for r in report.results] == list(CHECKS)
    assert "skipped" in next(r.detail for r in report.results if r.name == "round trip")


def test_an_exception_other_than_payload_error_is_caught_by_fuzzing():
    failed = failures(fake_plugins.LeakyPlugin())
    assert "fuzz mutated" in failed
    assert (
        "raised KeyError" in failed["fuzz mutated"]
        or "raised AttributeError" in (failed["fuzz mutated"])
    )


def test_events_built_without_validation_are_caught():
    failed = failures(fake_plugins.UnvalidatedPlugin())
    assert "plate_confidence" in failed["samples"]


def test_events_claiming_another_source_are_caught():
    assert "is not the plugin name" in failures(fake_plugins.WrongSource())["samples"]


def test_bad_metadata_is_caught():
    assert "lower-case" in failures(fake_plugins.BadName())["metadata"]


def test_assert_conformant_raises_with_the_report():
    with pytest.raises(ContractViolation, match=r"FAIL  fuzz mutated"):
        assert_conformant(fake_plugins.LeakyPlugin, fuzz_examples=150)
    assert assert_conformant(fake_plugins.GoodPlugin, fuzz_examples=50).passed


def test_the_report_reads_well():
    text = check_plugin(fake_plugins.GoodPlugin(), fuzz_examples=20).format()
    assert text.splitlines()[0] == "conformance of plugin 'good':"
    assert "PASS  samples" in text


def test_fuzzing_runs_5000_payloads_per_built_in_plugin():
    """Issue: fuzzing every plugin with 5,000 random/mutated payloads raises only PayloadError."""
    for plugin in PluginRegistry.discover():
        report = check_plugin(plugin, fuzz_examples=2500, checks=["fuzz random", "fuzz mutated"])
        assert report.passed, report.format()


class SleepyPlugin(fake_plugins.GoodPlugin):
    """Waits without working: what a paused process looks like from inside."""

    def parse(self, payload: bytes) -> list:
        time.sleep(SLOW_PARSE_SECONDS + 0.2)
        return super().parse(payload)


class BusyPlugin(fake_plugins.GoodPlugin):
    """Burns CPU on every payload: what a runaway regular expression looks like."""

    def parse(self, payload: bytes) -> list:
        until = time.thread_time() + SLOW_PARSE_SECONDS + 0.1
        while time.thread_time() < until:
            pass
        return super().parse(payload)


def test_a_parse_that_burns_cpu_is_reported_as_slow():
    problem = parse_outcome(BusyPlugin(), b"{}")
    assert problem is not None and "s of CPU to parse" in problem


def test_a_pause_of_the_process_is_not_the_plugins_fault():
    assert parse_outcome(SleepyPlugin(), b"{}") is None
