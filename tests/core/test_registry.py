"""Plugin discovery: the built-in plugins load, broken ones are reported, never fatal."""

from importlib.metadata import EntryPoint

import pytest

from parkflow.registry import PluginRegistry, UnknownPluginError, contract_problems
from parkflow.sdk import ENTRY_POINT_GROUP

BUILT_IN = ["baynode", "camguard", "citycount", "paymaster", "voltwatch"]


def entry_point(name: str, target: str) -> EntryPoint:
    return EntryPoint(name, f"tests.core.fake_plugins:{target}", ENTRY_POINT_GROUP)


def test_the_five_built_in_plugins_are_discovered_through_entry_points():
    registry = PluginRegistry.discover()
    assert set(BUILT_IN) <= set(registry.names())
    record = next(r for r in registry.records if r.name == "camguard")
    assert (record.package, record.entry_point) == ("parkflow", "plugins.camguard:CamGuardPlugin")


def test_allowlist_restricts_loading():
    assert PluginRegistry.discover(allowlist=frozenset({"camguard"})).names() == ["camguard"]


def test_discover_plugins_honours_the_environment(monkeypatch):
    from parkflow.registry import discover_plugins

    monkeypatch.setenv("PARKFLOW_PLUGINS", "paymaster, baynode")
    assert discover_plugins().names() == ["baynode", "paymaster"]


@pytest.mark.parametrize(
    ("target", "name", "problem"),
    [
        ("Missing", "missing", "cannot import"),
        ("NotAPlugin", "notaplugin", "not a subclass"),
        ("NoParse", "noparse", "does not implement parse"),
        ("BadName", "badname", "must be lower-case"),
        ("NoVendor", "novendor", "'vendor' must be a non-empty string"),
        ("CrashOnInit", "crashoninit", "cannot instantiate: RuntimeError: needs a licence key"),
        ("GoodPlugin", "other", "entry point is named 'other' but the plugin 'good'"),
    ],
)
def test_broken_plugins_are_reported_and_the_rest_still_load(target, name, problem):
    registry = PluginRegistry.from_entry_points(
        [entry_point(name, target), entry_point("good", "GoodPlugin")]
    )
    assert registry.names() == ["good"]
    [broken] = registry.problems
    assert broken.name == name
    assert problem in broken.problem


def test_a_duplicate_name_is_ignored_with_a_reason():
    registry = PluginRegistry.from_entry_points(
        [entry_point("good", "GoodPlugin"), entry_point("good", "AnotherGood")]
    )
    assert registry.get("good").vendor == "Good Inc."
    [duplicate] = registry.problems
    assert "already registered" in duplicate.problem


def test_unknown_plugin_error_lists_the_known_ones():
    registry = PluginRegistry.from_entry_points([entry_point("good", "GoodPlugin")])
    with pytest.raises(
        UnknownPluginError, match=r"unknown vendor plugin 'acme' \(installed: good\)"
    ):
        registry.get("acme")


def test_contract_problems_of_a_good_class_are_none():
    from tests.core.fake_plugins import GoodPlugin

    assert contract_problems(GoodPlugin, "good") == []
