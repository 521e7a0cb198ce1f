"""No skip hides a missing dependency: every skip in the tests fails instead when CI=true (which
`.ci/run` sets), except the few listed here with the reason they may skip in CI too."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
SKIPS = {"skip", "skipif", "importorskip"}
# Optional tools CI does not install, each a second check of something tested without it.
MAY_SKIP_IN_CI = {
    # Meilisearch is the optional second search engine (no Debian package); tantivy, the default,
    # runs the same contract in every run.
    ("contract/search/conftest.py", "make_backend"),
    # A cross-check of tests/kustomize_lite.py against kubectl, which CI does not install.
    (
        "unit/test_kubernetes.py",
        "test_kubectl_kustomize_renders_the_same_objects_where_it_is_installed",
    ),
}


def _skips(tree: ast.AST) -> list[tuple[ast.AST, list[ast.AST]]]:
    """Each skip call or decorator, with the chain of nodes enclosing it (outermost first)."""
    found: list[tuple[ast.AST, list[ast.AST]]] = []

    def walk(node: ast.AST, chain: list[ast.AST]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Attribute) and child.attr in SKIPS:
                base = child.value
                named = isinstance(base, ast.Name) and base.id == "pytest"
                marked = isinstance(base, ast.Attribute) and base.attr == "mark"
                if named or marked:
                    found.append((child, chain))
            walk(child, [*chain, child])

    walk(tree, [])
    return found


def _guard(chain: list[ast.AST]) -> ast.AST | None:
    """The function around the skip, or the top-level statement it sits in."""
    functions = [n for n in chain if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if functions:
        return functions[-1]
    return chain[0] if chain else None


def test_every_skip_fails_in_ci_instead_unless_listed():
    unguarded = []
    for path in sorted(TESTS.rglob("*.py")):
        if path == Path(__file__):
            continue
        source = path.read_text()
        for node, chain in _skips(ast.parse(source)):
            where = _guard(chain)
            text = ast.get_source_segment(source, where) if where is not None else ""
            name = getattr(where, "name", "")
            key = (path.relative_to(TESTS).as_posix(), name)
            ci = '"CI"' in (text or "") or "IN_CI" in (text or "")
            guarded = ci and ("pytest.fail" in text or "raise " in text)
            if not guarded and key not in MAY_SKIP_IN_CI:
                unguarded.append(f"{key[0]}:{node.lineno} ({name or 'module'})")
    assert not unguarded, f"skips that would hide a missing dependency in CI: {unguarded}"


def test_the_listed_exceptions_still_exist():
    for relative, name in MAY_SKIP_IN_CI:
        assert f"def {name}(" in (TESTS / relative).read_text(), (relative, name)
