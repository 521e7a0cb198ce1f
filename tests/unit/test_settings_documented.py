"""docs/operations.md names every environment variable the settings modules read."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.test_settings_read_once import ALLOWED

ROOT = Path(__file__).resolve().parents[2]
READERS = {"env", "env_float", "env_flag", "get", "_daily"}
# Read by name patterns (f-strings), documented as such.
PATTERNS = (
    "<SERVICE>_DATABASE_URL",
    "INTERNAL_SIGNING_KEY_<NAME>",
    "INTERNAL_PUBLIC_KEYS_<CALLER>",
    "DIRECTORY_URL",
    "RATELIMIT_SIGN_IN",
)


def variables_read(source: str) -> set[str]:
    """Names passed as a literal to the settings modules' readers (and `os.environ.get`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func, first = node.func, node.args[0]
        reader = (isinstance(func, ast.Name) and func.id in READERS) or ast.unparse(func) in (
            "os.environ.get",
            "os.getenv",
        )
        if (
            reader
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and first.value.isupper()
        ):
            found.add(first.value)
    return found


def test_every_variable_read_is_in_the_runbook():
    runbook = (ROOT / "docs" / "operations.md").read_text()
    read = set().union(*(variables_read((ROOT / name).read_text()) for name in ALLOWED))
    assert len(read) > 40  # the readers were found
    missing = sorted(name for name in read | set(PATTERNS) if f"`{name}`" not in runbook)
    assert missing == [], f"add these to docs/operations.md's table of settings: {missing}"
