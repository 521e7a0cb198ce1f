"""The search log's writer: rows go to the database from one background thread, in batches.

A search hands its row over (a function that returns it; `GET /search` builds its few small
objects itself, so nothing of the answer waits with it) and answers at once; the thread, asleep
meanwhile (a row does not wake it), gathers the rows and writes them with one multi-row INSERT
when `max_rows` have gathered or the oldest has waited `max_wait` seconds, whichever is first.
With one person searching that is one transaction a second instead of one a search, and the ORM
is not involved: a row is a dict for SQLAlchemy Core.

Nothing queued is lost when the process stops: `close()` (the server's shutdown, and at exit)
writes what is waiting at once and stops the thread; `settle()` (a report, marking a search
funded) writes what is waiting at once and returns when it has landed.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from services.directory.adapters.orm import SearchLogEntry
from services.directory.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Row = dict[str, Any]
TABLE = cast(Table, SearchLogEntry.__table__)
MAX_ROWS = 500
MAX_WAIT = 1.0  # seconds


class _Signal:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return self.name


FLUSH = _Signal("FLUSH")  # write what is waiting now
STOP = _Signal("STOP")  # write what is waiting now, then end the thread


class SearchLogWriter:
    """Rows of one database's search log, written in batches by a thread of their own."""

    def __init__(
        self, uow: UnitOfWork, *, max_rows: int = MAX_ROWS, max_wait: float = MAX_WAIT
    ) -> None:
        self.uow = uow
        self.max_rows = max_rows
        self.max_wait = max_wait
        self._queue: queue.SimpleQueue[Callable[[], Row] | _Signal] = queue.SimpleQueue()
        self._count = 0  # rows submitted and not yet written (or given up on)
        self._settled = threading.Condition()
        self._hurry = threading.Event()  # flush, stop, or a full batch: write without waiting
        self._thread: threading.Thread | None = None
        self._registered = False

    # The server's background protocol (shared.registry.Background): nothing to start until the
    # first row; stopping writes what is waiting.
    def start(self, interval: float = 0.5) -> None:
        del interval

    def stop(self) -> None:
        self.close()

    def submit(self, row: Callable[[], Row]) -> None:
        """Queue a row (`row()` gives it, called by the thread)."""
        with self._settled:
            self._count += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="search-log", daemon=True)
                self._thread.start()
                if not self._registered:
                    # finish and stop before the interpreter finalises: a daemon thread caught
                    # inside sqlite or psycopg then can crash the process on its way out
                    atexit.register(self.close)
                    self._registered = True
            self._queue.put(row)  # with the count, so every row counted is in the queue
            full = self._count >= self.max_rows
        if full:
            self._hurry.set()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread (a later submit starts a new one)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._queue.put(STOP)
        self._hurry.set()
        thread.join(timeout)

    def settle(self, timeout: float = 10.0) -> None:
        """Write what is queued now and wait until it has landed."""
        with self._settled:
            if self._count == 0:
                return
        self._queue.put(FLUSH)
        self._hurry.set()
        with self._settled:
            self._settled.wait_for(lambda: self._count == 0, timeout=timeout)

    @property
    def pending(self) -> int:
        with self._settled:
            return self._count

    def _run(self) -> None:
        done = False
        while not done:
            rows, stopping = self._gather()
            try:
                if rows:
                    self._write(rows)
            finally:
                with self._settled:
                    self._count -= len(rows)
                    self._settled.notify_all()
                    # a row submitted while stopping found this thread alive: keep going for it
                    done = stopping and self._count == 0
                    if done:
                        self._thread = None
                    elif self._count >= self.max_rows:  # a backlog: the next batch is full
                        self._hurry.set()

    def _gather(self) -> tuple[list[Callable[[], Row]], bool]:
        """The next batch: up to max_rows, the first having waited at most max_wait seconds for
        others (asleep: a search's row does not wake the thread); sooner if asked to flush or to
        stop, or when a batch is full."""
        first = self._queue.get()
        if not isinstance(first, _Signal):
            self._hurry.wait(self.max_wait)
        self._hurry.clear()
        rows = [] if isinstance(first, _Signal) else [first]
        stopping = first is STOP
        while stopping or len(rows) < self.max_rows:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is STOP:
                stopping = True
            elif not isinstance(item, _Signal):
                rows.append(item)
        return rows, stopping

    def _write(self, makers: list[Callable[[], Row]]) -> None:
        for start in range(0, len(makers), self.max_rows):
            rows = [make() for make in makers[start : start + self.max_rows]]
            try:
                self.uow.run(_inserting(rows))
            except SQLAlchemyError as err:
                # the log must never cost anyone their search
                log.warning(
                    "searches not logged",
                    extra={"fields": {"error": type(err).__name__, "rows": len(rows)}},
                )


def _inserting(rows: list[Row]) -> Callable[[Session], object]:
    def write(session: Session) -> object:
        return session.execute(insert(TABLE), rows)  # one multi-row INSERT

    return write
