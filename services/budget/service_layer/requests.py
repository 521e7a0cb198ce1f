"""Purchase requests: the calls the API and the CLI make, each a command run in a unit of work.

The use cases live in `request_lifecycle` (up to approval) and `request_money` (after it); the
reads in `request_queries`. `db` may be the database (a unit of work without an idempotency key
is made for the call) or a unit of work the caller made (the API, with the caller's key).
"""

from __future__ import annotations

from typing import Any

from services.budget.adapters.directory import DirectoryPort
from services.budget.service_layer import request_lifecycle as lifecycle
from services.budget.service_layer import request_money as money
from services.budget.service_layer.commands import (
    AddEvidence,
    ApproveRequest,
    CancelRequest,
    CreateRequest,
    DecideRequest,
    PayRequest,
    RecoverMoney,
    SubmitRequest,
)
from services.budget.service_layer.fundability import InsufficientBudget, NotFundable
from services.budget.service_layer.request_money import expire_stale_holds
from services.budget.service_layer.request_queries import (
    get_request,
    list_requests,
    provider_requests,
    request_view,
)
from services.budget.service_layer.unit_of_work import UnitOfWork, as_uow
from shared.db import Database
from shared.identity import Identity

__all__ = [
    "InsufficientBudget",
    "NotFundable",
    "add_evidence",
    "approve_request",
    "cancel_request",
    "close_request",
    "create_request",
    "expire_stale_holds",
    "get_request",
    "list_requests",
    "order_request",
    "pay_request",
    "provider_requests",
    "recover_request",
    "reject_request",
    "request_info",
    "request_view",
    "submit_request",
]

Db = Database | UnitOfWork


def create_request(
    db: Db, directory: DirectoryPort, actor: Identity, values: dict[str, Any]
) -> dict[str, Any]:
    """A draft (or, with `submit`, a submitted) request for a listing or for named equipment."""
    cmd = CreateRequest(
        actor=actor,
        person_id=values["person_id"],
        goal_id=values["goal_id"],
        listing_id=_text(values.get("listing_id")),
        cost_option_id=_text(values.get("cost_option_id")),
        supplier=values.get("supplier"),
        item=values.get("item"),
        category=values.get("category"),
        amount_pence=values.get("amount_pence"),
        submit=bool(values.get("submit")),
        id=values.get("id"),
    )
    return lifecycle.create(cmd, as_uow(db), directory)


def submit_request(
    db: Db, directory: DirectoryPort, actor: Identity, request_id: str
) -> dict[str, Any]:
    return lifecycle.submit(
        SubmitRequest(actor=actor, request_id=request_id), as_uow(db), directory
    )


def approve_request(
    db: Db,
    directory: DirectoryPort,
    actor: Identity,
    request_id: str,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    values = values or {}
    cmd = ApproveRequest(
        actor=actor,
        request_id=request_id,
        amount_pence=values.get("amount_pence"),
        reason=values.get("reason"),
    )
    return lifecycle.approve(cmd, as_uow(db), directory)


def reject_request(db: Db, actor: Identity, request_id: str, reason: str) -> dict[str, Any]:
    cmd = DecideRequest(actor=actor, request_id=request_id, action="reject", reason=reason)
    return lifecycle.decide(cmd, as_uow(db))


def request_info(db: Db, actor: Identity, request_id: str, reason: str) -> dict[str, Any]:
    cmd = DecideRequest(actor=actor, request_id=request_id, action="request_info", reason=reason)
    return lifecycle.decide(cmd, as_uow(db))


def order_request(
    db: Db, actor: Identity, request_id: str, reference: str | None
) -> dict[str, Any]:
    cmd = DecideRequest(
        actor=actor,
        request_id=request_id,
        action="order",
        details={"order_reference": reference},
    )
    return lifecycle.decide(cmd, as_uow(db))


def close_request(db: Db, actor: Identity, request_id: str) -> dict[str, Any]:
    cmd = DecideRequest(actor=actor, request_id=request_id, action="close")
    return lifecycle.decide(cmd, as_uow(db))


def cancel_request(
    db: Db, actor: Identity, request_id: str, reason: str | None, *, expire: bool = False
) -> dict[str, Any]:
    cmd = CancelRequest(actor=actor, request_id=request_id, reason=reason, expire=expire)
    return money.cancel(cmd, as_uow(db))


def pay_request(db: Db, actor: Identity, request_id: str, values: dict[str, Any]) -> dict[str, Any]:
    cmd = PayRequest(
        actor=actor,
        request_id=request_id,
        reference=values["reference"],
        paid_on=values.get("paid_on"),
        amount_pence=values.get("amount_pence"),
        reason=values.get("reason"),
    )
    return money.pay(cmd, as_uow(db))


def add_evidence(
    db: Db, actor: Identity, request_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    cmd = AddEvidence(
        actor=actor,
        request_id=request_id,
        reference=values["reference"],
        note=values.get("note"),
        activity_started_on=values.get("activity_started_on"),
    )
    return money.add_evidence(cmd, as_uow(db))


def recover_request(
    db: Db, actor: Identity, request_id: str, amount_pence: int, reason: str | None
) -> dict[str, Any]:
    cmd = RecoverMoney(actor=actor, request_id=request_id, amount_pence=amount_pence, reason=reason)
    return money.recover(cmd, as_uow(db))


def _text(value: object) -> str | None:
    return None if value is None else str(value)
