"""The layers hold: no service imports another, shared/ imports no service, domains stay plain Python.

The imports are read from the source (every `import` and `from ... import`, top level or not),
so an import hidden inside a function counts as much as one at the top of a file.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("budget", "directory", "gateway", "outcomes")
# What a domain package may never import: the web framework or a database session.
NOT_IN_DOMAIN = ("flask", "flask_smorest", "werkzeug", "webargs", "sqlalchemy", "requests")
# Imports between services still to be removed, each naming the file and the service it reaches.
# An entry that is no longer needed fails the test too, so this list only ever shrinks.
KNOWN_CROSSINGS: set[tuple[str, str]] = set()


def _python_files(*folders: str) -> list[Path]:
    return sorted(
        path
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str | None = None) -> set[str]:
    """Every module `path` imports, relative imports resolved to absolute names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = (module or _module_of(path)).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _service_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "services" and parts[1] in SERVICES:
        return parts[1]
    return None


def test_the_walk_sees_imports_inside_functions_and_relative_ones(tmp_path):
    sample = ROOT / "services" / "budget" / "adapters" / "directory.py"
    assert "shared.http" in imports_of(sample)
    hidden = tmp_path / "hidden.py"
    hidden.write_text("def f():\n    from services.directory import demo_data\nfrom ..x import y\n")
    found = imports_of(hidden, "services.budget.api.hidden")
    assert {"services.directory.demo_data", "services.budget.x.y"} <= found


def test_no_service_imports_another():
    crossings = set()
    for path in _python_files("services"):
        own = _service_of(_module_of(path))
        if own is None:  # services/cli.py and services/launcher.py assemble the suite
            continue
        for module in imports_of(path):
            other = _service_of(module)
            if other is not None and other != own:
                crossings.add((str(path.relative_to(ROOT)), other))
    assert crossings - KNOWN_CROSSINGS == set(), "a service imports another service"
    assert KNOWN_CROSSINGS - crossings == set(), "remove the fixed crossing from KNOWN_CROSSINGS"


def test_shared_imports_no_service():
    offenders = {
        (str(path.relative_to(ROOT)), module)
        for path in _python_files("shared")
        for module in imports_of(path)
        if module == "services" or module.startswith("services.")
    }
    assert offenders == set()


# What every service with its own database has, in the same places (docs/architecture.md).
LAYOUT = (
    "app.py",
    "settings.py",
    "registry.py",
    "cli.py",
    "jobs.py",
    "seed.py",
    "domain/__init__.py",
    "service_layer/unit_of_work.py",
    "service_layer/commands.py",
    "adapters/orm.py",
    "api/__init__.py",
    "migrations/env.py",
)


@pytest.mark.parametrize("service", ["budget", "directory", "outcomes"])
def test_every_service_has_the_same_layout(service):
    folder = ROOT / "services" / service
    assert [part for part in LAYOUT if not (folder / part).is_file()] == []
    for package in sorted((folder / "api").iterdir()):
        if package.is_dir() and package.name != "__pycache__":
            assert sorted(p.name for p in package.glob("*.py")) == [
                "__init__.py",
                "routes.py",
                "schemas.py",
            ], package


@pytest.mark.parametrize("service", ["budget", "directory", "outcomes"])
def test_domain_packages_import_neither_the_web_framework_nor_the_database(service):
    folder = ROOT / "services" / service / "domain"
    assert folder.is_dir()
    offenders = {
        (path.name, module)
        for path in _python_files(f"services/{service}/domain")
        for module in imports_of(path)
        if module.split(".")[0] in NOT_IN_DOMAIN
    }
    assert offenders == set()


def test_importing_every_domain_and_the_pure_shared_modules_loads_no_flask_or_sqlalchemy():
    """Transitively, too: a domain that imports a shared module that imports Flask fails here."""
    modules = [
        _module_of(path)
        for service in ("budget", "directory", "outcomes")
        for path in _python_files(f"services/{service}/domain")
    ] + [
        "shared.errors",
        "shared.identity",
        "shared.clock",
        "shared.demo",
        "shared.spreadsheet",
        "shared.suppression",
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & {set(NOT_IN_DOMAIN)!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_every_csv_the_suite_writes_goes_through_the_one_safe_writer():
    """shared.spreadsheet neutralises formula cells; nothing else may import the csv module."""
    offenders = {
        str(path.relative_to(ROOT))
        for path in _python_files("services", "shared")
        if "csv" in imports_of(path) and path != ROOT / "shared" / "spreadsheet.py"
    }
    assert offenders == set()


# Issue 13: a file a newcomer must read whole stays short. Data and migrations are exempt.
MAX_LINES = 500
DATA_FILES = {"services/directory/demo_data.py"}  # the fictional demo catalogue, as data


def test_no_source_file_is_over_500_lines():
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in _python_files("services", "shared")
        if "migrations" not in path.relative_to(ROOT).parts
        and str(path.relative_to(ROOT)) not in DATA_FILES
        and (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_the_exempt_data_files_still_exist():
    """An exemption for a file that has gone would let its name be reused for code."""
    assert all((ROOT / name).is_file() for name in DATA_FILES)


# Business dates are the UK's, and the demo clock's where it is set (shared.clock.today); the
# machine's own date (`date.today()`) is neither on a UTC host for an hour around midnight in summer.
MACHINE_DATE_ALLOWED = {
    # The demo catalogue's anchor: the later of the real date and the demo's, on purpose.
    "services/directory/seed.py",
}


def test_business_dates_come_from_the_clock_not_the_machine():
    offenders = {
        str(path.relative_to(ROOT))
        for path in _python_files("services", "shared")
        if "date.today()" in path.read_text()
        and str(path.relative_to(ROOT)) not in MACHINE_DATE_ALLOWED
    }
    assert offenders == set()
    assert all((ROOT / name).is_file() for name in MACHINE_DATE_ALLOWED)
