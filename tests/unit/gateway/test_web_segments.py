"""The pages' URL values in their own format, and every service path a page builds quoted
(services/gateway/web/segments.py; the walk over the real suite is
tests/integration/web/test_url_segments.py)."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.exceptions import NotFound

from services.gateway.web.segments import (
    refuse_unsafe_path,
    seg,
    unsafe_segment,
    valid_id,
    valid_segment,
)

WEB = Path(__file__).resolve().parents[3] / "services" / "gateway" / "web"
# A version-4 id, fixed rather than fresh: every test process must name the parameters alike.
FRESH = "3f2b8c1e-7d4a-4e9b-9c6f-1a2b3c4d5e6f"


@pytest.mark.parametrize(
    "value",
    [
        FRESH,
        FRESH.upper(),
        FRESH.replace("-", ""),
        "{" + FRESH + "}",
        str(uuid.uuid5(uuid.NAMESPACE_DNS, "x")),
    ],
)
def test_an_id_is_a_uuid_as_the_services_write_or_read_one(value):
    assert valid_id(value) and valid_segment("person_id", value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        ".",
        "..",
        "%2e%2e",
        FRESH + "/..",
        FRESH + "%2F..",
        FRESH + ".",
        FRESH + "x",
        FRESH[:-1],
        "not-a-uuid",
        "urn:uuid:" + FRESH,
        FRESH + "?x=1",
        FRESH + "#x",
        "-" * 36,
    ],
)
def test_anything_else_is_no_id(value):
    assert not valid_segment("request_id", value)


def test_a_token_is_url_safe_base64_and_other_names_a_plain_segment():
    assert valid_segment("token", "aZ09_-" * 7)
    for odd in ("..", ".", "a.b", "a%2Fb", "a/b", "a b", "x" * 201, ""):
        assert not valid_segment("token", odd), odd
    assert valid_segment("name", "v1.2") and valid_segment("number", 3)
    for odd in ("..", ".", "...", "a%2e", "a/b", "a\\b", "", True, None):
        assert not valid_segment("name", odd), odd


def test_seg_quotes_a_value_and_refuses_one_that_is_no_segment():
    app = Flask(__name__)
    with app.test_request_context():
        assert seg(FRESH) == FRESH
        assert seg(7) == "7"
        assert seg("a b;c") == "a%20b%3Bc"
        for odd in ("", ".", "..", "a/b", "a\\b", "%2e%2e", "a%2Fb"):
            with pytest.raises(NotFound):
                seg(odd)


@pytest.mark.parametrize(
    "path",
    [
        "/people/..",
        "/people/../ledger",
        "/people/./x",
        "/people/%2e%2e",
        "/people/%252e%252e",
        "/people/a%2Fb",
        "/people/a%252Fb",
        "/people/a%5Cb",
        "/people/..?x=1",
    ],
)
def test_no_call_leaves_with_a_segment_that_would_resolve(path):
    app = Flask(__name__)
    with app.test_request_context(), pytest.raises(NotFound):
        refuse_unsafe_path(path)


def test_an_ordinary_path_leaves_as_it_is():
    for path in (f"/people/{FRESH}/ledger", "/payment-runs/x.csv", "/search/unmet-demand.csv", "/"):
        refuse_unsafe_path(path)
    assert not unsafe_segment("v1.2") and not unsafe_segment("...")
    assert unsafe_segment("%2E%2E") and unsafe_segment("%25252e")


def _service_paths() -> list[tuple[str, int, ast.JoinedStr]]:
    found = []
    for source in sorted(WEB.rglob("*.py")):
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.JoinedStr)
                and node.values
                and isinstance(node.values[0], ast.Constant)
                and str(node.values[0].value).startswith("/")
            ):
                found.append((str(source.relative_to(WEB)), node.lineno, node))
    return found


def test_every_path_a_page_builds_puts_each_value_in_through_seg():
    """An f-string path (`f"/people/{person_id}"`) in the pages' code takes each value through
    `seg(...)`, which quotes it and refuses `..`: a new page that forgets fails here."""
    paths = _service_paths()
    assert len(paths) > 40  # the walk finds the pages' paths
    bare = [
        f"{source}:{line}"
        for source, line, node in paths
        for part in node.values
        if isinstance(part, ast.FormattedValue)
        and not (
            isinstance(part.value, ast.Call)
            and isinstance(part.value.func, ast.Name)
            and part.value.func.id == "seg"
        )
    ]
    assert not bare, f"values put into a path without seg(): {bare}"
