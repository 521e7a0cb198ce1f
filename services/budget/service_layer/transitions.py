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
    locked: PurchaseRequest | None = None,
    **values: Any,
) -> tuple[str, PurchaseRequest]:
    """Change the request's state by `action`, conditional on the state it starts from; (before, request).

    The state before is the one this transaction changed, so money moved on it (a hold released,
    a payment posted) can never disagree with what a racing caller did first: 409 instead.
    An action with one starting state is one conditional `UPDATE ... RETURNING` and no read; one
    with several reads the state under a lock first (`locked`: the caller already holds it).
    """
    sources, target = rules.TRANSITIONS[action]
    if locked is None and len(sources) == 1:
        (before,) = sources
        changed = tx.requests.change_state(request_id, before, target, values)
        if changed is None:  # refused: say why from the state it is in now (404 if none)
            rules.next_state(action, tx.requests.lock(request_id).state)
            raise Conflict("This request changed meanwhile; reload it and try again.")
    else:
        before = (locked or tx.requests.lock(request_id)).state
        rules.next_state(action, before)
        changed = tx.requests.change_state(request_id, before, target, values)
        if changed is None:  # the lock makes this unreachable; refuse rather than guess
            raise Conflict("This request changed meanwhile; reload it and try again.")
    tx.requests.record(request_id, before, target, actor, note, details)
    return before, changed
