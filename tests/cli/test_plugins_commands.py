"""`parkflow plugins list | check | new` as vendors and engineers use them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BUILT_IN = {"baylog", "baynode", "camguard", "citycount", "paymaster", "voltwatch"}
VENV_BIN = Path(sys.executable).parent


def test_list_shows_the_built_in_vendors_from_the_installed_command():
    result = subprocess.run(
        [VENV_BIN / "parkflow", "plugins", "list"], capture_output=True, text=True, check=True
    )
    for name in BUILT_IN:
        assert name in result.stdout
    assert "CamGuard Vision" in result.stdout


def test_list_as_json(cli):
    rows = json.loads(cli("plugins", "list", "--json").output)
    assert {row["name"] for row in rows} >= BUILT_IN
    assert all(row["status"] == "ok" for row in rows if row["name"] in BUILT_IN)
    assert {row["package"] for row in rows if row["name"] in BUILT_IN} == {"parkflow"}


def test_check_prints_a_passing_report_for_every_plugin(cli):
    result = cli("plugins", "check", "--examples", "20")
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    for name in BUILT_IN:
        assert name in result.output
    assert result.output.count("PASS") == len(BUILT_IN) * 8
    assert "all plugins keep the contract" in result.output


def test_check_fails_on_a_plugin_that_breaks_the_contract(cli, monkeypatch):
    from parkflow import registry
    from tests.core.fake_plugins import LeakyPlugin

    monkeypatch.setattr(
        registry, "discover_plugins", lambda: registry.PluginRegistry.of(LeakyPlugin())
    )
    monkeypatch.setattr("parkflow.cli.plugins.discover_plugins", registry.discover_plugins)
    result = cli("plugins", "check", "--examples", "100")
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert "1 plugin(s) break the contract" in result.output


def test_check_of_an_unknown_plugin_says_which_exist(cli):
    result = cli("plugins", "check", "nosuchvendor")
    assert result.exit_code == 1
    assert "unknown vendor plugin 'nosuchvendor'" in result.output
    assert "camguard" in result.output


def test_check_takes_several_names_and_checks_only_those(cli):
    result = cli("plugins", "check", "paymaster", "citycount", "--examples", "10")
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS") == 2 * 8
    assert "paymaster — PayMaster" in result.output
    assert "citycount — CityCount" in result.output
    assert "camguard" not in result.output


def fake_registry(monkeypatch, **targets: str) -> None:
    """`parkflow plugins` sees only these entry points (name=class in tests.core.fake_plugins)."""
    from importlib.metadata import EntryPoint

    from parkflow import registry
    from parkflow.sdk import ENTRY_POINT_GROUP

    found = [
        EntryPoint(name, f"tests.core.fake_plugins:{target}", ENTRY_POINT_GROUP)
        for name, target in targets.items()
    ]
    monkeypatch.setattr(
        "parkflow.cli.plugins.discover_plugins",
        lambda: registry.PluginRegistry.from_entry_points(found),
    )


def test_check_of_several_names_reports_each_broken_one(cli, monkeypatch):
    fake_registry(
        monkeypatch, good="GoodPlugin", missing="Missing", novendor="NoVendor", leaky="LeakyPlugin"
    )
    result = cli("plugins", "check", "missing", "good", "leaky", "--examples", "50")
    assert result.exit_code == 1
    assert "FAIL missing" in result.output
    assert "novendor" not in result.output
    assert "good — Good Inc." in result.output
    assert "leaky — Good Inc." in result.output
    assert "2 plugin(s) break the contract" in result.output


def test_check_of_several_names_with_unknown_ones_checks_nothing(cli, monkeypatch):
    fake_registry(monkeypatch, good="GoodPlugin", missing="Missing")
    result = cli("plugins", "check", "good", "acme", "missing", "zeta")
    assert result.exit_code == 1
    assert "unknown vendor plugins 'acme', 'zeta' (installed: good)" in result.output
    assert "PASS" not in result.output


def test_new_scaffolds_a_package(cli, tmp_path):
    result = cli("plugins", "new", "acme", "--dir", tmp_path, "--vendor", "Acme Parking")
    assert result.exit_code == 0, result.output
    package = tmp_path / "parkflow-acme"
    files = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    assert {
        "pyproject.toml",
        "README.md",
        "parkflow_acme/__init__.py",
        "tests/test_acme.py",
        "parkflow_acme/samples/entry.json",
    } <= files
    assert not any(name.endswith(".tmpl") for name in files)
    assert 'acme = "parkflow_acme:AcmePlugin"' in (package / "pyproject.toml").read_text()
    assert 'vendor = "Acme Parking"' in (package / "parkflow_acme/__init__.py").read_text()


@pytest.mark.parametrize(
    ("name", "message"), [("Bad-Name", "not a valid plugin name"), ("camguard", None)]
)
def test_new_refuses_bad_names_and_existing_folders(cli, tmp_path, name, message):
    if message is None:  # second time: the folder exists
        cli("plugins", "new", name, "--dir", tmp_path)
        message = "already exists"
    result = cli("plugins", "new", name, "--dir", tmp_path)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.integration
def test_a_scaffolded_plugin_installs_passes_its_own_test_and_is_listed(tmp_path):
    """Done-when: `plugins new acme` -> pip install -e -> its test passes -> it is listed."""
    subprocess.run(
        [VENV_BIN / "parkflow", "plugins", "new", "acme", "--dir", tmp_path],
        check=True,
        capture_output=True,
    )
    package = tmp_path / "parkflow-acme"
    # A scratch venv that sees ParkFlow's installed packages, so the install stays out of .venv.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    parent_site = next(p for p in sys.path if p.endswith("site-packages"))
    (site / "parent.pth").write_text(f"import site; site.addsitedir({parent_site!r})\n")
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-e",
            package,
        ],
        check=True,
        capture_output=True,
    )
    tests = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", package],
        capture_output=True,
        text=True,
        cwd=package,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    listed = subprocess.run(
        [python, "-m", "parkflow", "plugins", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["acme"]["status"] == "ok"
    assert rows["acme"]["package"] == "parkflow-acme"
