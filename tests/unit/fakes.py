"""In-memory pieces every service's fake unit of work is built from (cosmicpython's FakeUnitOfWork).

A service's own fakes (`tests/unit/<service>/fakes.py`) add its repositories; these keep the
promises all of them share: a row takes its column defaults as the database would give them, a
write that raises commits nothing, and events go to an outbox in the same transaction.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Tx = TypeVar("Tx")


def inserted(row: T) -> T:
    """The row as the database stores it: each column left unset takes its column default."""
    for column in type(row).__table__.columns:
        default = column.default
        if default is None or getattr(row, column.key, None) is not None:
            continue
        if default.is_scalar:
            setattr(row, column.key, copy.copy(default.arg))
        elif default.is_callable:
            setattr(row, column.key, default.arg(None))
    return row


def by_id(row: Any) -> str:
    return str(row.id)


@dataclass
class FakeOutbox:
    """The events a transaction wrote, in order, as (topic, payload)."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.events.append((topic, payload))

    def topics(self) -> list[str]:
        return [topic for topic, _ in self.events]


class FakeUnitOfWork(Generic[Tx]):
    """One in-memory world, `tx`; `commits` counts the write transactions that committed and
    `attempts` the use cases run under `retrying`.

    A write snapshots the whole world and puts it back if the block raises, as a rolled-back
    transaction leaves nothing behind.
    """

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.commits = 0
        self.attempts = 0

    @contextmanager
    def read(self) -> Iterator[Tx]:
        yield self.tx

    @contextmanager
    def write(self) -> Iterator[Tx]:
        saved = copy.deepcopy(self.tx.__dict__)
        try:
            yield self.tx
        except BaseException:
            self.tx.__dict__.update(saved)  # rolled back: nothing of the failed write stays
            raise
        self.commits += 1

    def retrying(self, call: Callable[[], T]) -> T:
        self.attempts += 1
        return call()
