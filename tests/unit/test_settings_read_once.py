"""Settings are read from the environment once, at start-up, by the settings modules only.

Every other module in services/ and shared/ is given its settings: a read of `os.environ` (or
`os.getenv`, `os.putenv`, `from os import environ`) anywhere else, or an import of the raw readers
in shared.config, fails this test. The source is read, so a read hidden in a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The settings modules; gunicorn_conf is a file gunicorn itself executes for its own settings.
ALLOWED = {
    "shared/config.py",
    "shared/gunicorn_conf.py",
    "services/budget/settings.py",
    "services/directory/settings.py",
    "services/gateway/settings.py",
    "services/outcomes/settings.py",
}
OS_READERS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
RAW_READERS = {"env", "env_float", "env_flag"}  # shared.config's own helpers


def _sources() -> list[Path]:
    return sorted(
        path
        for folder in ("services", "shared")
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def environment_reads(source: str) -> list[tuple[int, str]]:
    """Each line of `source` that reads the environment, and how."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in OS_READERS
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.append((node.lineno, f"os.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [
                (node.lineno, f"from os import {a.name}")
                for a in node.names
                if a.name in OS_READERS
            ]
        elif isinstance(node, ast.ImportFrom) and node.module == "shared.config":
            found += [
                (node.lineno, f"from shared.config import {a.name}")
                for a in node.names
                if a.name in RAW_READERS
            ]
    return sorted(found, key=lambda item: item[0])


def test_only_the_settings_modules_read_the_environment():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {how}"
        for path in _sources()
        if str(path.relative_to(ROOT)) not in ALLOWED
        for line, how in environment_reads(path.read_text())
    ]
    assert offenders == [], "read settings in a settings module and pass them in:\n" + "\n".join(
        offenders
    )


def test_the_allowed_modules_exist():
    assert all((ROOT / name).is_file() for name in ALLOWED)


def test_each_way_of_reading_the_environment_is_caught():
    source = "\n".join(
        [
            "import os",
            "from os import environ, getenv",
            "from shared.config import env, var_dir",
            "a = os.environ.get('X')",
            "b = os.getenv('Y')",
            "def f():",
            "    return os.environ['Z']",
        ]
    )
    assert [how for _line, how in environment_reads(source)] == [
        "from os import environ",
        "from os import getenv",
        "from shared.config import env",
        "os.environ",
        "os.getenv",
        "os.environ",
    ]
