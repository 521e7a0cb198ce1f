"""Wiring search into the directory app: the backend, the outbox relay that feeds it, and /ready."""

from __future__ import annotations

import fcntl
import gc
import logging
import threading
from pathlib import Path
from typing import Any

from flask import Flask

from services.directory.search.backend import SearchBackend, SearchUnavailable
from services.directory.search.config import make_backend
from services.directory.search.reindex import reindex
from services.directory.search.source import DocumentSource
from services.directory.search.sync import DESTINATION, IndexDelivery
from services.directory.settings import SearchSettings
from shared.app import add_ready_check
from shared.db import Database
from shared.outbox import OutboxRelay
from shared.registry import app_parts

log = logging.getLogger(__name__)


class SearchSync:
    """The directory's background search work: build the index if it is empty while the
    database has listings (first start, a deleted index), then relay outbox events into it."""

    def __init__(
        self,
        backend: SearchBackend,
        relay: OutboxRelay,
        documents: DocumentSource,
        lock_path: Path | None = None,
    ):
        self.documents = documents
        self.backend = backend
        self.relay = relay
        self.building = False
        self.lock_path = lock_path
        self._lock_file: Any = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, interval: float = 0.5) -> None:
        try:
            self.building = self.backend.count() == 0  # /ready waits for a first build
        except SearchUnavailable:  # the engine is down: start anyway; /ready says so
            self.building = False
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="search-sync", daemon=True
        )
        self._thread.start()

    def _lead(self) -> bool:
        """Only one process on this machine relays to the index (gunicorn runs several workers):
        two relays could apply an older edit after a newer one. Waits for the lock; False if
        stopped first."""
        if self.lock_path is None:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "a+")  # noqa: SIM115 - held for the process's life
        while not self._stopping.is_set():
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._lock_file = handle
                return True
            except BlockingIOError:
                self.building = False  # another process builds and relays; this one searches
                self._stopping.wait(2.0)
        handle.close()
        return False

    def _run(self, interval: float) -> None:
        if not self._lead():
            self.building = False
            return
        try:
            self.bootstrap()
        except Exception:  # noqa: BLE001 - the relay still runs; /ready showed the building state
            log.exception("building the search index failed")
        finally:
            self.building = False
        if not self._stopping.is_set():
            self.relay.start(interval)

    def bootstrap(self) -> int:
        while not self._stopping.is_set():
            try:
                if self.backend.count() > 0:
                    return 0
                break
            except SearchUnavailable:  # wait for the engine to come up
                self.building = False
                self._stopping.wait(2.0)
        if self._stopping.is_set():
            return 0
        documents = list(self.documents())
        if not documents:
            return 0
        self.building = True
        summary = reindex(self.backend, documents)
        log.info("search index built", extra={"fields": {"listings": summary.indexed}})
        # Added against the native crash in /records/export (docs/operations.md, "A native crash
        # in the directory"), whose cause it never touched: a CPython 3.11 bug met by young ORM
        # objects in cycles, removed from the export by reading Core rows. Moving what exists
        # after the index build out of the collector's reach only spares later collections that
        # walk; objects are still freed by reference counting, only cycles among them never are.
        gc.freeze()
        return summary.indexed

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.relay.stop()
        self.backend.close()
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock for another process
            self._lock_file = None

    def ready(self) -> dict[str, Any]:
        if self.building:
            raise SearchUnavailable("The search index is being built from the database.")
        details = self.backend.health()  # raises when the index can't be reached
        return {**details, "lag": self.relay.lag()}


def install_search(
    app: Flask,
    db: Database,
    documents: DocumentSource,
    settings: SearchSettings,
    backend: SearchBackend | None = None,
) -> SearchBackend:
    """Build the search backend (unless given), its relay and sync; the backend is returned for
    the app's registry."""
    from services.directory.adapters.orm import OutboxEvent

    backend = backend or make_backend(settings)
    relay = OutboxRelay(db, OutboxEvent, DESTINATION, deliver_batch=IndexDelivery(backend).batch)
    sync = SearchSync(backend, relay, documents, lock_path=settings.relay_lock_path)
    parts = app_parts(app)
    parts.relays[DESTINATION] = relay
    parts.background.append(sync)
    add_ready_check(app, "search", sync.ready)
    return backend
