"""Waking relays when any process commits events: PostgreSQL's LISTEN/NOTIFY.

On PostgreSQL the outboxes of the services that relay (budget, directory) have a trigger (AFTER
INSERT ... FOR EACH STATEMENT, their alembic migrations) that calls `pg_notify(CHANNEL, '')` when
a statement adds events to a destination whose latest earlier event was delivered (or that had
none), whoever writes them: a web process without a relay, another web process, `phb worker`, a
`phb` command, psql. While an earlier event is pending a relay is at work already (or waits out a
backoff), and it passes again after delivering (OutboxRelay._loop), so commits under load notify
nobody and do not queue on the lock PostgreSQL takes for a notifying commit, which is held until
the commit's WAL is flushed. The notification is sent when the transaction commits, never for
one rolled back.

One thread a process and database (`listen_for_commits`, as a relay starts) holds a connection of
its own in autocommit, LISTENs, and wakes every relay started in this process on that database
when a notification comes; if the connection fails it connects again with backoff (0.5 s doubling
to 30 s) and wakes them all once it listens again, for what it may have missed. The relays keep
polling at their interval all the while, so a lost notification only delays an event.
SQLite (one process) keeps the in-process wake alone (`shared.outbox_wake`).
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from shared.db import Database
    from shared.outbox import OutboxRelay

log = logging.getLogger(__name__)

CHANNEL = "phb_outbox"
APPLICATION_NAME = "phb-outbox-listener"
# How long the listener waits on its socket before looking whether it should stop.
_TICK = 5.0
_FIRST_RETRY, _MAX_RETRY = 0.5, 30.0


def conninfo(url: str) -> str:
    """libpq's form of a SQLAlchemy PostgreSQL URL (its driver name dropped)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """One database's LISTEN connection and thread, waking the relays registered on it."""

    def __init__(self, url: str):
        self.url = url
        self.relays: weakref.WeakSet[OutboxRelay] = weakref.WeakSet()
        self.listening = threading.Event()  # set while LISTEN is in force (tests wait on it)
        self.pid: int | None = None  # the listening backend's pid, while connected
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop at the next tick (the thread is not waited for: it holds nothing but its socket)."""
        self._stop.set()

    def wake_all(self) -> None:
        with _lock:
            relays = list(self.relays)
        for relay in relays:
            relay.notify()

    def _run(self) -> None:
        delay = _FIRST_RETRY
        while not self._stop.is_set():
            try:
                self._listen()
                delay = _FIRST_RETRY
            except Exception as err:  # noqa: BLE001 - any failure: connect again, later
                if self._stop.is_set():  # (its database dropped or closed as it stops)
                    break
                log.warning(
                    "outbox listener lost its connection; relays poll until it is back",
                    extra={"fields": {"error": str(err)[:300], "retry_seconds": delay}},
                )
            finally:
                self.listening.clear()
                self.pid = None
            if self._stop.wait(delay):
                break
            delay = min(_MAX_RETRY, delay * 2)

    def _listen(self) -> None:
        with psycopg.connect(
            conninfo(self.url), autocommit=True, application_name=APPLICATION_NAME
        ) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self.pid = connection.info.backend_pid
            self.listening.set()
            self.wake_all()  # whatever was committed while nobody here listened
            while not self._stop.is_set():
                for _ in connection.notifies(timeout=_TICK, stop_after=1):
                    self.wake_all()


_lock = threading.Lock()
_listeners: dict[str, Listener] = {}


def listen_for_commits(relay: OutboxRelay) -> None:
    """Wake `relay` whenever any process commits events to its database's outbox."""
    url = relay.db.engine.url.render_as_string(hide_password=False)
    with _lock:
        listener = _listeners.get(url)
        if listener is None:
            listener = _listeners[url] = Listener(url)
            listener.relays.add(relay)
            listener.start()
        else:
            listener.relays.add(relay)


def stop_listening_for_commits(relay: OutboxRelay) -> None:
    """`relay` is no longer woken by other processes' commits; the last one out stops the thread."""
    url = relay.db.engine.url.render_as_string(hide_password=False)
    with _lock:
        listener = _listeners.get(url)
        if listener is None:
            return
        listener.relays.discard(relay)
        if not listener.relays:
            del _listeners[url]
            listener.stop()


def listener_for(db: Database) -> Listener | None:
    """This process's listener on `db`, if a relay started one (tests)."""
    with _lock:
        return _listeners.get(db.engine.url.render_as_string(hide_password=False))
