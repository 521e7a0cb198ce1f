"""App services are found through typed registries, modules through imports, never by string name.

`app.extensions` is read and written only in the registry modules (`shared/registry.py` and each
service's `registry.py`), which keep one typed record each; everything else asks them. Modules are
imported by name in the source (no `importlib.import_module` or `__import__` of a built string),
and a missing dependency fails at import instead of falling back to a stand-in.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("services", "shared", "tests", "bench")
REGISTRIES = frozenset(
    {
        "shared/registry.py",
        "services/budget/registry.py",
        "services/directory/registry.py",
        "services/gateway/registry.py",
        "services/outcomes/registry.py",
    }
)


def _python_files(*folders: str) -> list[Path]:
    return sorted(
        path
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def extension_uses(source: str) -> list[int]:
    """The lines that touch an `extensions` attribute (`app.extensions[...]`, `.get`, `in`, ...)."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr == "extensions"
    )


def imports_by_name(source: str) -> list[int]:
    """The lines that import a module named at run time rather than in the source."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("__import__", "import_module"):
            lines.append(node.lineno)
        elif isinstance(func, ast.Attribute) and func.attr == "import_module":
            lines.append(node.lineno)
    return sorted(lines)


def import_fallbacks(source: str) -> list[int]:
    """The lines of `except ImportError` (or ModuleNotFoundError): a stand-in for a dependency."""
    names = {"ImportError", "ModuleNotFoundError"}
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ExceptHandler) or node.type is None:
            continue
        caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
        if any(isinstance(name, ast.Name) and name.id in names for name in caught):
            lines.append(node.lineno)
    return lines


def test_the_checks_see_what_they_look_for():
    source = "x = current_app.extensions['phb_db']\nif 'k' in app.extensions: pass"
    assert extension_uses(source) == [1, 2]
    assert extension_uses("app.extensions.get('phb_relays', {})") == [1]
    assert extension_uses("services = budget_services()\nextensions = 1") == []
    assert imports_by_name("importlib.import_module(f'services.{s}.app')\n__import__(n)") == [1, 2]
    assert imports_by_name("from services.budget import app") == []
    source = "try:\n    import x\nexcept (OSError, ImportError):\n    x = None\n"
    assert import_fallbacks(source) == [3]
    assert import_fallbacks("try:\n    f()\nexcept ValueError:\n    pass\n") == []


def test_app_extensions_are_touched_only_in_the_registry_modules():
    offenders = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files(*FOLDERS)
        if str(path.relative_to(ROOT)) not in REGISTRIES
        for line in extension_uses(path.read_text())
    }
    assert offenders == set(), "use the app's typed registry instead of app.extensions"


def test_every_registry_module_named_exists():
    assert sorted(r for r in REGISTRIES if not (ROOT / r).is_file()) == []


def test_a_missing_dependency_fails_loudly_instead_of_falling_back():
    offenders = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files("services", "shared")
        for line in import_fallbacks(path.read_text())
    }
    assert offenders == set()


def test_no_module_is_imported_by_a_name_built_at_run_time():
    """`services/components.py` maps a command line's service name to direct imports instead."""
    offenders = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files("services", "shared")
        for line in imports_by_name(path.read_text())
    }
    assert offenders == set()
