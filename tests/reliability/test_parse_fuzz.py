"""Every registered plugin's `parse` against hostile input (issue 9, part 3).

The plugins come from the entry-point registry, so a new plugin is fuzzed without a change
here. For every payload, `parse` returns valid canonical events of its own source or raises
`PayloadError` with a short reason, and nothing else (`hostile_payloads.parse_outcome`).
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from tests.reliability.hostile_payloads import (
    hostile_documents,
    parse_outcome,
    registry,
    rendered_payloads,
    spliced_payloads,
    valid_payloads,
)

PLUGINS = registry().names()
FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_every_registered_plugin_loads_so_that_it_is_fuzzed():
    assert PLUGINS, "no plugin is registered"
    assert not registry().problems, [(r.name, r.problem) for r in registry().problems]


@pytest.mark.parametrize("name", PLUGINS)
def test_hostile_documents_are_rejected_with_a_reason(name):
    """Arbitrary bytes, invalid UTF-8, deep nesting, huge numbers, NaN, injections."""
    plugin = registry().get(name)
    outcomes: Counter[str] = Counter()

    @FUZZ
    @given(hostile_documents())
    def run(payload: bytes) -> None:
        outcomes[parse_outcome(plugin, payload)] += 1

    run()
    assert outcomes["rejected"], outcomes


@pytest.mark.parametrize("name", PLUGINS)
def test_simulated_payloads_with_a_hostile_token_keep_the_contract(name):
    """Valid payloads with NaN, 1e309, year 9999, SQL or invalid UTF-8 in one place."""
    plugin = registry().get(name)
    valid = valid_payloads(plugin)
    assert valid, f"{name} has neither samples nor simulated payloads to start from"
    assert all(parse_outcome(plugin, payload) == "parsed" for payload in valid)
    outcomes: Counter[str] = Counter()

    @FUZZ
    @given(spliced_payloads(valid))
    def run(payload: bytes) -> None:
        outcomes[parse_outcome(plugin, payload)] += 1

    run()
    assert outcomes["rejected"], outcomes


@pytest.mark.parametrize("name", PLUGINS)
def test_hostile_values_in_the_vendor_format_keep_the_contract(name):
    """Well-formed payloads whose meaning is hostile: far past and future times, huge and
    non-finite numbers, injections and wrong types, rendered by the plugin's `simulate`."""
    plugin = registry().get(name)
    if not plugin.simulates:
        pytest.skip(f"{name} does not render payloads (`simulates` is empty)")
    outcomes: Counter[str] = Counter()

    @FUZZ
    @given(rendered_payloads(plugin))
    def run(payload: bytes) -> None:
        outcomes[parse_outcome(plugin, payload)] += 1

    run()
    # both kinds happened: the values reached the plugin's checks, and not all were refused
    assert outcomes["parsed"] and outcomes["rejected"], outcomes
