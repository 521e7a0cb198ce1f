"""What the lean-path differential tests share (tests/integration/budget/test_lean_path.py,
tests/integration/directory/test_search_lean_path.py): an app served on an ephemeral port, the
counters a call moved, and the access log's lines."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import REGISTRY
from waitress import create_server

from tests.support import ServedInThread

Answer = tuple[str, list[tuple[str, str]], bytes]  # status, headers, body
Samples = dict[tuple[str, tuple[Any, ...]], float]


def serve(app: Any) -> tuple[str, Callable[[], None]]:
    """`app` served by waitress on an ephemeral port: its URL, and how to stop it."""
    served = ServedInThread(create_server(app, host="127.0.0.1", port=0, threads=4))
    return served.url, served.stop


def samples(families: Collection[str], suffixes: tuple[str, ...] = ("_total",)) -> Samples:
    """The values of the named metric families' samples whose names end in one of `suffixes`."""
    found: Samples = {}
    for family in REGISTRY.collect():
        if family.name not in families:
            continue
        for sample in family.samples:
            if sample.name.endswith(suffixes):
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def moved(before: Samples, after: Samples) -> Samples:
    """What changed from `before` to `after`, by how much."""
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


class AccessLines(logging.Handler):
    """The access log's fields, line by line, without the duration (never the same twice)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = dict(getattr(record, "fields", {}))
        found.pop("duration_ms", None)
        self.fields.append(found)


@contextmanager
def access_lines() -> Iterator[AccessLines]:
    """The access log's lines written while inside."""
    handler = AccessLines()
    logger = logging.getLogger("phb.access")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
