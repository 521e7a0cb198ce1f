"""Waking a relay when its own process commits events: no poll finds them later.

`add_event` (or `written`, for an `INSERT ... SELECT` into the outbox) notes the destination on the
caller's session; when that session commits, each relay started in this process for the
destination is woken. A rolled-back session wakes nobody. Events committed by other processes are
found by the relay's poll (`OutboxRelay.start`'s interval).
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from shared.outbox import OutboxRelay

# Relays started in this process, by destination, woken when a session commits events for it.
_SESSION_KEY = "outbox.destinations"
_listening: dict[str, weakref.WeakSet[OutboxRelay]] = {}
_listening_lock = threading.Lock()


def written(session: Session, destination: str) -> None:
    """The caller's transaction adds events for `destination` (`add_event` says so itself; an
    `INSERT ... SELECT` into the outbox says so here): when it commits, this process's relay for
    that destination runs at once instead of at its next poll."""
    destinations = session.info.get(_SESSION_KEY)
    if destinations is None:
        session.info[_SESSION_KEY] = {destination}
    else:
        destinations.add(destination)


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    destinations = session.info.pop(_SESSION_KEY, None)
    if destinations:
        with _listening_lock:
            relays = [r for d in destinations for r in _listening.get(d, ())]
        for relay in relays:
            relay.notify()


@event.listens_for(Session, "after_rollback")
def _forget_written(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


def listen(relay: OutboxRelay) -> None:
    with _listening_lock:
        _listening.setdefault(relay.destination, weakref.WeakSet()).add(relay)


def unlisten(relay: OutboxRelay) -> None:
    with _listening_lock:
        _listening.get(relay.destination, weakref.WeakSet()).discard(relay)
