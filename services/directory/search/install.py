"""Wiring search into the directory app: the backend, the outbox relay that feeds it, and /ready."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from services.directory.search.backend import SearchBackend
from services.directory.search.config import make_backend
from services.directory.search.sync import DESTINATION, IndexDelivery
from shared.app import add_ready_check
from shared.outbox import OutboxRelay


def install_search(app: Flask, backend: SearchBackend | None = None) -> None:
    from services.directory.adapters.orm import OutboxEvent

    backend = backend or make_backend()
    relay = OutboxRelay(app.extensions["phb_db"], OutboxEvent, DESTINATION, IndexDelivery(backend))
    app.extensions["phb_search"] = backend
    app.extensions.setdefault("phb_relays", {})[DESTINATION] = relay
    app.extensions.setdefault("phb_background", []).append(relay)

    def ready() -> dict[str, Any]:
        details = backend.health()  # raises when the index can't be reached
        return {**details, "lag": relay.lag()}

    add_ready_check(app, "search", ready)


def search_backend() -> SearchBackend:
    return current_app.extensions["phb_search"]


def search_relay() -> OutboxRelay:
    return current_app.extensions["phb_relays"][DESTINATION]
