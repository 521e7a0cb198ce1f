"""One step of a request's life cycle, decided on the state the transaction actually changed."""

from __future__ import annotations

from typing import Any

from services.budget.adapters.orm import PurchaseRequest
from services.budget.domain import rules
from services.budget.service_layer.unit_of_work import Transaction
from shared.errors import Conflict
from shared.identity import Identity


def move_on(
    tx: Transaction,
    request_id: str,
    action: str,
    actor: Identity,
    *,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    **values: Any,
) -> tuple[str, PurchaseRequest]:
    """Lock the request, check `action` may start from its state, change it; (state before, request).

    The state before is the one this transaction changed, so money moved on it (a hold released,
    a payment posted) can never disagree with what a racing caller did first: 409 instead.
    """
    before = tx.requests.lock(request_id).state
    target = rules.next_state(action, before)
    changed = tx.requests.change_state(request_id, before, target, values)
    if changed is None:  # the lock makes this unreachable; refuse rather than guess
        raise Conflict("This request changed meanwhile; reload it and try again.")
    tx.requests.record(request_id, before, target, actor, note, details)
    return before, changed
