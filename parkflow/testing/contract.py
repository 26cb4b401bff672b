"""A pytest base class: subclass it in a plugin's test suite to get one test per check.

from parkflow.testing import SourcePluginContract
from acme_parkflow import AcmePlugin

class TestAcmeContract(SourcePluginContract):
    plugin_class = AcmePlugin
"""

from __future__ import annotations

from typing import ClassVar

from parkflow.sdk import SourcePlugin
from parkflow.testing.conformance import Options, run_check


class SourcePluginContract:
    """One test per conformance check for `plugin_class` (not collected itself)."""

    plugin_class: ClassVar[type[SourcePlugin]]
    #: Payloads per fuzz check; raise it for a nightly run.
    fuzz_examples: ClassVar[int] = 300
    fuzz_seed: ClassVar[int] = 0

    def _check(self, name: str) -> None:
        options = Options(fuzz_examples=self.fuzz_examples, seed=self.fuzz_seed)
        result = run_check(name, self.plugin_class(), options)
        assert result.passed, f"{name}: {result.detail}"

    def test_metadata(self) -> None:
        self._check("metadata")

    def test_samples_parse(self) -> None:
        self._check("samples")

    def test_invalid_samples_rejected(self) -> None:
        self._check("invalid samples")

    def test_hostile_payloads(self) -> None:
        self._check("hostile payloads")

    def test_determinism(self) -> None:
        self._check("determinism")

    def test_round_trip(self) -> None:
        self._check("round trip")

    def test_fuzz_random(self) -> None:
        self._check("fuzz random")

    def test_fuzz_mutated(self) -> None:
        self._check("fuzz mutated")
