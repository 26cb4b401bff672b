"""The conformance kit for source plugins (`parkflow.testing`).

One call in a vendor's test suite::

    from parkflow.testing import assert_conformant
    def test_acme_keeps_the_contract():
        assert_conformant(AcmePlugin)

or one test per check by subclassing `SourcePluginContract`.
"""

from parkflow.testing.conformance import (
    CHECKS,
    CheckResult,
    ConformanceReport,
    ContractViolation,
    assert_conformant,
    check_plugin,
    parse_outcome,
)
from parkflow.testing.contract import SourcePluginContract

__all__ = [
    "CHECKS",
    "CheckResult",
    "ConformanceReport",
    "ContractViolation",
    "SourcePluginContract",
    "assert_conformant",
    "check_plugin",
    "parse_outcome",
]
