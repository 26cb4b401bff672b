"""`parkflow plugins new NAME`: a ready-to-edit plugin package with a passing conformance test."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from parkflow.registry import NAME_PATTERN

TEMPLATE = "templates/plugin"


class ScaffoldError(ValueError):
    """The plugin package cannot be created (bad name, folder exists)."""


def class_prefix(name: str) -> str:
    """`acme_cams` -> `AcmeCams`."""
    return "".join(part.capitalize() for part in name.split("_"))


def create_plugin_package(name: str, parent: Path, vendor: str | None = None) -> Path:
    """Write package `parkflow-<name>/` under `parent` and return its folder."""
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(
            f"{name!r} is not a valid plugin name: use lower-case letters, digits and '_', "
            "starting with a letter (it becomes the topic raw.<name>)"
        )
    target = parent / f"parkflow-{name.replace('_', '-')}"
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another name or folder")
    replacements = {
        "__Vendor__": vendor or f"{class_prefix(name)} Systems",
        "__Class__": class_prefix(name),
        "__name__": name,
    }
    root = resources.files("parkflow.scaffold").joinpath(TEMPLATE)
    for source, relative in _walk(root, Path()):
        destination = target / _fill(str(relative).replace("package", f"parkflow_{name}", 1),
                                     replacements).removesuffix(".tmpl")  # fmt: skip
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(_fill(source.read_text(), replacements))
    return target


def _walk(node: Traversable, relative: Path) -> Iterator[tuple[Traversable, Path]]:
    for child in node.iterdir():
        if child.is_dir():
            yield from _walk(child, relative / child.name)
        else:
            yield child, relative / child.name


def _fill(text: str, replacements: dict[str, str]) -> str:
    for token, value in replacements.items():
        text = text.replace(token, value)
    return text
