"""Documentation meta-tests: every environment variable the code reads is documented."""

import re
from pathlib import Path

from parkflow.settings import Settings

ROOT = Path(__file__).parent.parent
CODE_DIRS = ("parkflow", "plugins", "streaming", "orchestration", "dashboards")
VARIABLE = re.compile(r"\b(?:PARKFLOW|CALF)_[A-Z_]+[A-Z]\b")


def variables_in_code() -> set[str]:
    found = {f"PARKFLOW_{name.upper()}" for name in Settings.model_fields}
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(VARIABLE.findall(path.read_text()))
    for pattern in ("*.yml", "*.sql"):  # dbt reads variables with env_var()
        for path in (ROOT / "dbt_project").rglob(pattern):
            if "target" not in path.relative_to(ROOT / "dbt_project").parts:
                found |= set(VARIABLE.findall(path.read_text()))
    return found


def variables_documented() -> set[str]:
    table = (ROOT / "docs" / "operations.md").read_text()
    return set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))


def test_every_environment_variable_is_in_the_operations_table():
    missing = variables_in_code() - variables_documented()
    assert not missing, f"add these to the table in docs/operations.md: {sorted(missing)}"


def test_the_table_lists_no_variable_the_code_does_not_read():
    stale = variables_documented() - variables_in_code()
    assert not stale, f"docs/operations.md lists variables no code reads: {sorted(stale)}"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme
    assert "make test" in readme
