"""Every SQL query the dashboards run over the marts, found in their modules.

A page keeps its queries as module constants (`*_SQL`, the filters' `CHOICE_SQL`, the
reports' `Report.sql`): any string in `dashboards.filters` or a `dashboards.pages` module
that selects from a mart is one, so a new page's queries are found without a change here.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType

from dashboards.data import MART_NAME, PARAMETER

_SELECT = re.compile(r"\bselect\b", re.IGNORECASE)


def _strings(value: object, depth: int = 0) -> Iterator[str]:
    if depth > 4:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list | tuple | frozenset | set):
        for item in value:
            yield from _strings(item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _strings(getattr(value, field.name), depth + 1)


def dashboard_modules() -> list[ModuleType]:
    """`dashboards.filters` and every module of `dashboards.pages`."""
    import dashboards.pages

    names = ["dashboards.filters"] + [
        f"dashboards.pages.{info.name}" for info in pkgutil.iter_modules(dashboards.pages.__path__)
    ]
    return [importlib.import_module(name) for name in names]


def dashboard_queries() -> dict[str, str]:
    """`module.CONSTANT` -> SQL, for every query over a mart the dashboards hold."""
    queries: dict[str, str] = {}
    for module in dashboard_modules():
        for name, value in vars(module).items():
            if name.startswith("_"):
                continue
            for index, text in enumerate(_strings(value)):
                if _SELECT.search(text) and MART_NAME.search(text):
                    label = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
                    queries.setdefault(label if index == 0 else f"{label}[{index}]", text)
    return queries


def parameters(sql: str) -> set[str]:
    """The `$name` parameters a query binds."""
    return set(PARAMETER.findall(sql))
