"""Listing edits made through the directory's own API, through the gateway, while the search
index can't be written (tantivy's writer lock held by another process): once it can, nothing is
missing or stale. A seeded suite of its own, since the test breaks its index."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tantivy

from tests.support import RELAY_WAIT, RunningSuite, running_suite


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[RunningSuite]:
    with running_suite(tmp_path / "var", seed=True) as running:
        yield running


def _until(predicate, timeout: float = RELAY_WAIT) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _lag(suite: RunningSuite) -> dict[str, Any]:
    return suite.api("GET", "/api/directory/ready").json()["checks"]["search"]["lag"]


def _edit(suite: RunningSuite, listing_id: str, method: str, body: dict | None = None) -> None:
    path = f"/api/directory/listings/{listing_id}"
    current = suite.api("GET", path, role="admin")
    assert current.status_code == 200, current.text
    response = suite.api(
        method, path, role="admin", json=body, headers={"If-Match": current.headers["ETag"]}
    )
    assert response.status_code == 200, response.text


def _search_all(suite: RunningSuite, **params: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    page = 1
    while True:
        body = suite.api(
            "GET", "/api/directory/search", params={"per_page": 100, "page": page, **params}
        ).json()
        found.update({h["id"]: h["name"] for h in body["hits"]})
        if page >= body["total_pages"]:
            return found
        page += 1


def test_edits_during_an_index_failure_are_all_there_once_it_recovers(
    seeded: RunningSuite,
) -> None:
    suite = seeded
    before = _search_all(suite, q="salsa")
    chosen = sorted(before)[:5]
    assert len(chosen) == 5

    index = tantivy.Index.open(str(suite.var_dir / "search" / "listings"))
    blocker = index.writer(heap_size=15_000_000, num_threads=1)
    expected = {}
    for version in (1, 2, 3):
        for n, listing_id in enumerate(chosen[:4]):
            name = f"Zumbafuse {n} v{version}"
            _edit(suite, listing_id, "PATCH", {"name": name})
            expected[listing_id] = name
    _edit(suite, chosen[4], "DELETE")  # archived: must leave search
    assert _until(lambda: _lag(suite)["pending"] > 0)
    time.sleep(1.0)
    assert _search_all(suite, q="zumbafuse") == {}  # the index hasn't changed yet

    del blocker, index  # the index is writable again
    gc.collect()
    assert _until(lambda: _lag(suite)["pending"] == 0), _lag(suite)
    assert _search_all(suite, q="zumbafuse") == expected
    after = _search_all(suite, q="salsa")
    assert chosen[4] not in after
    for listing_id, name in expected.items():  # the directory's own record agrees
        record = suite.api("GET", f"/api/directory/listings/{listing_id}", role="admin").json()
        assert record["name"] == name
