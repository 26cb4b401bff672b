"""Reading an estate from the operator's YAML files, with every error named by file, line and field.

`PARKFLOW_ESTATE` names one YAML file or a folder of them (`*.yaml`, `*.yml`, read in name
order: one file per region or per facility is fine). Each file is a mapping with
`facilities:` (a list) and optionally `tariffs:` (named tariffs any file may refer to).
Unset, the sample estate shipped with ParkFlow (the demo's six facilities) is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parkflow.estate.model import Estate, Facility
from parkflow.tariff import Tariff

SAMPLE_ESTATE = Path(__file__).resolve().parent / "sample" / "estate.yaml"
_FIELD = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in an estate file."""

    file: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class EstateError(Exception):
    """The estate files are invalid; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"the estate has {count}:\n" + "\n".join(f"  {p}" for p in problems))


class _TariffsFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tariffs: dict[str, Tariff] = Field(default_factory=dict)


class _EstateFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 1
    tariffs: dict[str, Tariff] = Field(default_factory=dict)
    facilities: list[Facility] = Field(default_factory=list)


def estate_files(path: Path) -> list[Path]:
    """The YAML files of an estate: the file itself, or a folder's `*.yaml` / `*.yml`."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def _lines(node: yaml.Node, path: tuple[Any, ...], index: dict[tuple[Any, ...], int]) -> None:
    """Record the line of every mapping key and sequence item below `node`."""
    index.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            index[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), index)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _lines(item, (*path, position), index)


def _field(loc: tuple[Any, ...], data: Any) -> str:
    """('facilities', 0, 'capacity') -> 'facilities[0] (FAC-001).capacity'."""
    text, node = "", data
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and "id" in node:
                text += f" ({node['id']})"
        elif _FIELD.match(str(part)):
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text


def _problems(error: ValidationError, file: Path, data: Any, index: dict) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(p for p in item["loc"] if isinstance(p, int) or _FIELD.match(str(p)))
        line = next((index[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in index), None)
        message = item["msg"].removeprefix("Value error, ")
        problems.append(Problem(file, line, _field(loc, data), message))
    return problems


def _read(file: Path) -> tuple[Any, dict[tuple[Any, ...], int]] | Problem:
    try:
        text = file.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        return Problem(file, None, "", f"cannot be read ({exc.strerror})")
    except UnicodeDecodeError:
        return Problem(file, None, "", "is not UTF-8 text")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return Problem(file, mark.line + 1 if mark else None, "", f"is not valid YAML: {reason}")
    if not isinstance(data, dict):
        return Problem(file, 1, "", "must be a mapping with a `facilities:` list")
    index: dict[tuple[Any, ...], int] = {}
    _lines(node, (), index)
    return data, index


def load_estate(path: Path | None = None) -> Estate:
    """The estate described at `path` (a YAML file or a folder of them); None: the sample.

    Raises EstateError naming every problem by file, line and field.
    """
    path = SAMPLE_ESTATE if path is None else path
    if not path.exists():
        raise EstateError([Problem(path, None, "", "does not exist (PARKFLOW_ESTATE)")])
    files = estate_files(path)
    if not files:
        raise EstateError([Problem(path, None, "", "holds no .yaml or .yml file")])
    problems: list[Problem] = []
    parsed: list[tuple[Path, Any, dict]] = []
    for file in files:
        result = _read(file)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            parsed.append((file, *result))

    tariffs: dict[str, Tariff] = {}
    for file, data, index in parsed:
        try:
            tariffs.update(_TariffsFile.model_validate(data).tariffs)
        except ValidationError as exc:
            problems.extend(_problems(exc, file, data, index))

    facilities: list[Facility] = []
    where: dict[str, str] = {}
    for file, data, index in parsed:
        try:
            content = _EstateFile.model_validate(data, context={"tariffs": tariffs})
        except ValidationError as exc:
            problems.extend(p for p in _problems(exc, file, data, index) if p not in problems)
            continue
        for position, facility in enumerate(content.facilities):
            line = index.get(("facilities", position))
            if facility.facility_id in where:
                problems.append(
                    Problem(
                        file,
                        line,
                        f"facilities[{position}] ({facility.facility_id})",
                        f"the same facility id is described at {where[facility.facility_id]}",
                    )
                )
            where.setdefault(facility.facility_id, f"{file}:{line}")
            facilities.append(facility)

    if not problems and not facilities:
        problems.append(Problem(path, None, "facilities", "the estate lists no facility"))
    if problems:
        raise EstateError(problems)
    return Estate(facilities=tuple(facilities), tariffs=tariffs)


@cache
def sample_estate() -> Estate:
    """The sample estate shipped with ParkFlow: the demo's and the simulator's six facilities."""
    return load_estate(SAMPLE_ESTATE)
