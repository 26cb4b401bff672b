"""Discovery of source plugins through the `parkflow.sources` entry-point group.

An entry point names one `SourcePlugin` subclass whose `name` is the entry
point's name (`acme = "acme:AcmePlugin"`), or a plugin group: a list or tuple of
`SourcePlugin` subclasses, each registered under its own `name` (the entry
point's name is then only the package's label, `acme = "acme:PLUGINS"`).

Discovery never crashes: an entry point that fails to import, a class that is not
a `SourcePlugin`, breaks the basic contract, or reuses a name that is already
taken becomes a `PluginRecord` with a `problem`, and the other plugins load (the
other classes of the same group too). `PARKFLOW_PLUGINS=a,b` restricts loading
to the named plugins (or group labels).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from importlib.metadata import EntryPoint, entry_points

from parkflow.sdk import ENTRY_POINT_GROUP, SourcePlugin

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class UnknownPluginError(LookupError):
    """No plugin of that name is registered (the message lists the known ones)."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        known_names = ", ".join(sorted(known)) or "none"
        super().__init__(f"unknown vendor plugin {name!r} (installed: {known_names})")
        self.name = name


@dataclass(frozen=True)
class PluginRecord:
    """One registered plugin (an entry point, or one class of a group) and what became of it."""

    name: str
    entry_point: str
    package: str
    package_version: str
    plugin: SourcePlugin | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the plugin loaded and passed the basic contract checks."""
        return self.plugin is not None and self.problem is None

    @property
    def vendor(self) -> str:
        """The vendor name the plugin declares ("" when it did not load)."""
        return getattr(self.plugin, "vendor", "") if self.plugin is not None else ""


def contract_problems(plugin_class: object, entry_point_name: str | None = None) -> list[str]:
    """Basic contract violations of a plugin class, cheap enough to check at discovery."""
    if not (inspect.isclass(plugin_class) and issubclass(plugin_class, SourcePlugin)):
        return [f"{plugin_class!r} is not a subclass of parkflow.sdk.SourcePlugin"]
    problems = []
    if inspect.isabstract(plugin_class):
        missing = ", ".join(sorted(plugin_class.__abstractmethods__))
        problems.append(f"does not implement {missing}")
    name = getattr(plugin_class, "name", None)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        problems.append(
            f"name {name!r} must be lower-case letters, digits and '_' (max 40), starting "
            "with a letter"
        )
    elif entry_point_name is not None and name != entry_point_name:
        problems.append(f"entry point is named {entry_point_name!r} but the plugin {name!r}")
    for attribute in ("vendor", "content_type"):
        value = getattr(plugin_class, attribute, None)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"'{attribute}' must be a non-empty string")
    return problems


def _load(entry_point: EntryPoint, only: frozenset[str] | None = None) -> list[PluginRecord]:
    """The records of one entry point: one plugin class, or one per class of a group.

    With `only`, just the group members named in it: the entry point's own name
    did not match, so a single class or an import failure yields nothing.
    """
    package = entry_point.dist.name if entry_point.dist else "?"
    package_version = entry_point.dist.version if entry_point.dist else "?"
    where = {"package": package, "package_version": package_version}
    try:
        target = entry_point.load()
    except Exception as exc:
        if only is not None:
            return []
        problem = f"cannot import: {type(exc).__name__}: {exc}"
        return [PluginRecord(entry_point.name, entry_point.value, **where, problem=problem)]
    if not isinstance(target, list | tuple):
        if only is not None:
            return []
        return [_record(target, entry_point.name, entry_point.value, where, entry_point.name)]
    if not target and only is None:
        problem = "names an empty plugin group (a list or tuple of SourcePlugin classes)"
        return [PluginRecord(entry_point.name, entry_point.value, **where, problem=problem)]
    records = []
    for index, plugin_class in enumerate(target):
        name = getattr(plugin_class, "name", None)
        if not (isinstance(name, str) and NAME_PATTERN.match(name)):
            name = f"{entry_point.name}[{index}]"
        if only is None or name in only:
            location = f"{entry_point.value}[{index}]"
            records.append(_record(plugin_class, name, location, where, None))
    return records


def _record(
    plugin_class: object,
    name: str,
    location: str,
    where: dict[str, str],
    entry_point_name: str | None,
) -> PluginRecord:
    """Check and instantiate one plugin class; any problem goes into the record."""
    record = {"name": name, "entry_point": location, **where}
    problems = contract_problems(plugin_class, entry_point_name)
    if problems:
        return PluginRecord(**record, problem="; ".join(problems))
    try:
        plugin = plugin_class()
    except Exception as exc:
        return PluginRecord(**record, problem=f"cannot instantiate: {type(exc).__name__}: {exc}")
    return PluginRecord(**record, plugin=plugin)


def _ordered(found: Iterable[EntryPoint]) -> list[EntryPoint]:
    """Unique entry points, ParkFlow's own first, then by package and name (stable winners)."""
    unique = {(ep.name, ep.value, ep.dist.name if ep.dist else ""): ep for ep in found}
    return sorted(
        unique.values(),
        key=lambda ep: (ep.dist is None or ep.dist.name != "parkflow",
                        ep.dist.name if ep.dist else "", ep.name),
    )  # fmt: skip


class PluginRegistry:
    """The installed source plugins, by name."""

    def __init__(self, records: Iterable[PluginRecord]) -> None:
        self.records: list[PluginRecord] = []
        self._plugins: dict[str, SourcePlugin] = {}
        for record in records:
            if record.ok and record.name in self._plugins:
                owner = next(r.package for r in self.records if r.name == record.name and r.ok)
                problem = f"name {record.name!r} is already registered by package {owner}; ignored"
                record = replace(record, plugin=None, problem=problem)
            self.records.append(record)
            if record.ok:
                self._plugins[record.name] = record.plugin

    @classmethod
    def discover(
        cls, *, allowlist: frozenset[str] | None = None, group: str = ENTRY_POINT_GROUP
    ) -> PluginRegistry:
        """Load every plugin registered under `group` (only `allowlist` ones when given).

        An allowlisted name is a plugin's or a group's label (the whole group). Entry
        points not named in it are imported only to find group members named in it.
        """
        return cls.from_entry_points(entry_points(group=group), allowlist=allowlist)

    @classmethod
    def from_entry_points(
        cls, found: Iterable[EntryPoint], *, allowlist: frozenset[str] | None = None
    ) -> PluginRegistry:
        """Load the given entry points, only `allowlist` plugins when given (see `discover`).

        Duplicates and failures become records with a problem.
        """
        return cls(
            record
            for ep in _ordered(found)
            for record in _load(
                ep, None if allowlist is None or ep.name in allowlist else allowlist
            )
        )

    @classmethod
    def of(cls, *plugins: SourcePlugin) -> PluginRegistry:
        """A registry of given plugin instances (tests, embedding)."""
        return cls(
            PluginRecord(p.name, type(p).__module__, "(local)", "", plugin=p) for p in plugins
        )

    def get(self, name: str) -> SourcePlugin:
        """The plugin called `name`, or `UnknownPluginError` listing the known ones."""
        try:
            return self._plugins[name]
        except KeyError:
            raise UnknownPluginError(name, self._plugins) from None

    def names(self) -> list[str]:
        """Names of the plugins that loaded, sorted."""
        return sorted(self._plugins)

    @property
    def problems(self) -> list[PluginRecord]:
        """Entry points that did not load, with the reason."""
        return [record for record in self.records if not record.ok]

    def __iter__(self) -> Iterator[SourcePlugin]:
        return iter(self._plugins[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._plugins)

    def __contains__(self, name: object) -> bool:
        return name in self._plugins


def discover_plugins() -> PluginRegistry:
    """The installed plugins, honouring `PARKFLOW_PLUGINS`."""
    from parkflow.settings import load_settings

    return PluginRegistry.discover(allowlist=load_settings().plugin_allowlist)
