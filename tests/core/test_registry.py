"""Plugin discovery: the built-in plugins load, broken ones are reported, never fatal."""

from importlib.metadata import EntryPoint

import pytest

from parkflow.registry import PluginRegistry, UnknownPluginError, contract_problems
from parkflow.sdk import ENTRY_POINT_GROUP
from tests.core.fake_plugins import BadName, CrashOnInit, GoodPlugin, NotAPlugin

BUILT_IN = ["baylog", "baynode", "camguard", "citycount", "paymaster", "voltwatch"]


def entry_point(name: str, target: str) -> EntryPoint:
    return EntryPoint(name, f"tests.core.fake_plugins:{target}", ENTRY_POINT_GROUP)


def test_the_built_in_plugins_are_discovered_through_entry_points():
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


class GroupCamera(GoodPlugin):
    name = "group_camera"
    vendor = "Group Parking"


class GroupMeter(GoodPlugin):
    name = "group_meter"
    vendor = "Group Parking"


GROUP = [GroupCamera, GroupMeter]
BROKEN_GROUP = (GroupCamera, NotAPlugin, BadName, CrashOnInit, GroupMeter)
EMPTY_GROUP: list = []
CLASHING_GROUP = [GroupCamera, GoodPlugin]


def group_entry_point(name: str, target: str) -> EntryPoint:
    return EntryPoint(name, f"tests.core.test_registry:{target}", ENTRY_POINT_GROUP)


def test_one_entry_point_may_name_a_group_of_plugins():
    registry = PluginRegistry.from_entry_points([group_entry_point("grouplabel", "GROUP")])
    assert registry.names() == ["group_camera", "group_meter"]
    assert registry.problems == []
    assert isinstance(registry.get("group_meter"), GroupMeter)
    assert [r.entry_point for r in registry.records] == [
        "tests.core.test_registry:GROUP[0]",
        "tests.core.test_registry:GROUP[1]",
    ]


def test_broken_classes_of_a_group_do_not_stop_the_others():
    registry = PluginRegistry.from_entry_points([group_entry_point("acme", "BROKEN_GROUP")])
    assert registry.names() == ["group_camera", "group_meter"]
    problems = {record.name: record.problem for record in registry.problems}
    assert problems.keys() == {"notaplugin", "acme[2]", "crashoninit"}
    assert "not a subclass" in problems["notaplugin"]
    assert "must be lower-case" in problems["acme[2]"]
    assert "cannot instantiate: RuntimeError" in problems["crashoninit"]


def test_an_empty_group_and_a_name_clash_inside_a_group_are_reported():
    registry = PluginRegistry.from_entry_points(
        [
            entry_point("good", "GoodPlugin"),
            group_entry_point("empty", "EMPTY_GROUP"),
            group_entry_point("clash", "CLASHING_GROUP"),
        ]
    )
    assert registry.names() == ["good", "group_camera"]
    problems = {record.name: record.problem for record in registry.problems}
    assert "empty plugin group" in problems["empty"]
    assert "already registered" in problems["good"]


@pytest.mark.parametrize(
    ("allowlist", "names"),
    [
        ({"group_meter"}, ["group_meter"]),
        ({"grouplabel"}, ["group_camera", "group_meter"]),
        ({"good", "group_camera"}, ["good", "group_camera"]),
        ({"nothing"}, []),
    ],
)
def test_the_allowlist_selects_group_members_by_name_or_the_whole_group(allowlist, names):
    found = [
        group_entry_point("grouplabel", "GROUP"),
        entry_point("good", "GoodPlugin"),
        entry_point("missing", "Missing"),
    ]
    registry = PluginRegistry.from_entry_points(found, allowlist=frozenset(allowlist))
    assert registry.names() == names
    assert registry.problems == []
